import type { MessageRecord, Store, StopSignals } from '@colloquy/store';
import { notFound } from '../../errors/app-error.ts';
import type { Logger } from '../observability.ts';
import { STOPPED, type RunningTurn } from './running-turn.ts';

export interface ActiveTurnsDeps {
  store: Store;
  /** How a stop reaches the instance that runs a turn. */
  stops: StopSignals;
  instanceId: string;
  logger: Logger;
  /** How long `stop` waits for another instance's turn to end (then answers with what is stored). */
  remoteStopWaitMs?: number;
}

/** The turns this instance runs, and their lifecycle: wait, stop (here or on their owner), drain. */
export interface ActiveTurns {
  add(turn: RunningTurn): void;
  remove(turn: RunningTurn): void;
  get(messageId: string): RunningTurn | undefined;
  count(): number;
  /** Waits for the turn to end and returns the stored assistant message. */
  wait(messageId: string): Promise<MessageRecord>;
  /**
   * Stops a turn wherever it runs: here by aborting it; on another instance by a stop signal to
   * its owner, then waiting (bounded) until the store shows it ended. Returns the stored message.
   */
  stop(messageId: string): Promise<MessageRecord>;
  /** Waits up to `graceMs` for running turns, then stops the rest (their text is kept). */
  drain(graceMs: number): Promise<void>;
  /** Stops listening for stop signals. */
  close(): void;
}

export function createActiveTurns(deps: ActiveTurnsDeps): ActiveTurns {
  const { store, stops, instanceId } = deps;
  const remoteStopWaitMs = deps.remoteStopWaitMs ?? 10_000;
  const active = new Map<string, RunningTurn>();
  // Stops sent to this instance from another one.
  const unlisten = stops.listen((messageId) => active.get(messageId)?.controller.abort(STOPPED));

  const stored = async (messageId: string): Promise<MessageRecord> => {
    const message = await store.messages.get(messageId);
    if (!message) throw notFound('Message');
    return message;
  };

  return {
    add: (turn) => void active.set(turn.assistantId, turn),
    remove: (turn) => void (active.get(turn.assistantId) === turn && active.delete(turn.assistantId)),
    get: (messageId) => active.get(messageId),
    count: () => active.size,
    async wait(messageId) {
      const saved = await active.get(messageId)?.done;
      return saved ?? stored(messageId);
    },
    async stop(messageId) {
      const turn = active.get(messageId);
      if (turn) {
        turn.controller.abort(STOPPED);
        await turn.done;
        return stored(messageId);
      }
      const message = await stored(messageId);
      if (message.status !== 'streaming') return message;
      const owner = await store.messages.ownerOf(messageId);
      if (!owner || owner === instanceId) return message;
      if (!(await stops.requestStop(owner, messageId))) {
        deps.logger.warn({ messageId, owner }, 'stop: the instance running this turn cannot be reached without a shared channel (REDIS_URL)');
        return message;
      }
      // The owner stores the answer as `stopped` before its stream ends: wait for that, bounded.
      const until = Date.now() + remoteStopWaitMs;
      for (let pause = 10; Date.now() < until; pause = Math.min(pause * 2, 200)) {
        await sleep(pause);
        const now = await stored(messageId);
        if (now.status !== 'streaming') return now;
      }
      return stored(messageId);
    },
    async drain(graceMs) {
      const all = () => Promise.all([...active.values()].map((t) => t.done));
      const timedOut = await Promise.race([all().then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        for (const t of active.values()) t.controller.abort(STOPPED);
        await all();
      }
    },
    close: () => void unlisten(),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
