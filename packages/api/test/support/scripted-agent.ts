import type { Agent, AgentEvent, AgentTurn } from '@colloquy/agents';

/** One step of a scripted answer: an event, a pause, a failure, or waiting until released. */
export type Step = AgentEvent | { wait: number } | { fail: string } | { hold: true };

/**
 * An agent that plays a script per turn (the next script each turn; the last repeats), records
 * the turns it was given, and honours the turn's AbortSignal like the real agents: it stops at
 * once, throwing.
 */
export class ScriptedAgent implements Agent {
  readonly info;
  readonly turns: AgentTurn[] = [];
  #release: (() => void) | undefined;

  constructor(
    id: string,
    private readonly scripts: Step[][],
  ) {
    this.info = { id, type: 'local' as const, description: 'scripted test agent' };
  }

  /** Whether the answer is waiting at a `hold` step. */
  get holding(): boolean {
    return this.#release !== undefined;
  }

  /** Lets a `hold` step go on. */
  release(): void {
    this.#release?.();
  }

  async *run(turn: AgentTurn): AsyncIterable<AgentEvent> {
    this.turns.push(turn);
    const script = (this.scripts.length > 1 ? this.scripts.shift() : this.scripts[0]) ?? [];
    for (const step of script) {
      if (turn.signal.aborted) throw new Error('aborted');
      if ('wait' in step) await abortable(new Promise((r) => setTimeout(r, step.wait)), turn.signal);
      else if ('fail' in step) throw new Error(step.fail);
      else if ('hold' in step) await abortable(new Promise<void>((r) => (this.#release = r)), turn.signal);
      else yield step;
    }
  }

  checkReachable(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export const deltas = (...parts: string[]): AgentEvent[] => parts.map((answer) => ({ event: 'message', answer }));
export const end = (usage = { promptTokens: 3, completionTokens: 5, totalTokens: 8 }): AgentEvent => ({ event: 'message_end', usage, citations: [] });
