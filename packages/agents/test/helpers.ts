import type { Agent, AgentEvent, AgentFile, AgentTurn } from '../src/index.ts';

export function file(id: string, name: string, text: string): AgentFile {
  return { id, name, mimeType: 'text/plain', text, upstreamIds: {} };
}

export function turn(query: string, files: AgentFile[], extra: Partial<AgentTurn> = {}): AgentTurn {
  return {
    conversationId: 'conv-1',
    messageId: 'msg-1',
    userId: 'user-1',
    query,
    history: [],
    files,
    conversationFiles: [],
    upstreamConversationId: null,
    signal: new AbortController().signal,
    ...extra,
  };
}

export interface RunResult {
  events: AgentEvent[];
  deltas: string[];
  answer: string;
  end: Extract<AgentEvent, { event: 'message_end' }>;
}

export async function collect(agent: Agent, t: AgentTurn): Promise<RunResult> {
  const events: AgentEvent[] = [];
  for await (const event of agent.run(t)) events.push(event);
  const deltas = events.flatMap((e) => (e.event === 'message' ? [e.answer] : []));
  const end = events.at(-1);
  if (end?.event !== 'message_end') throw new Error('run did not end with message_end');
  return { events, deltas, answer: deltas.join(''), end };
}

/** Every event of a run, and the error it ended with, if any. */
export async function settle(agent: Agent, t: AgentTurn): Promise<{ events: AgentEvent[]; deltas: string[]; error: unknown }> {
  const events: AgentEvent[] = [];
  let error: unknown;
  try {
    for await (const event of agent.run(t)) events.push(event);
  } catch (err) {
    error = err;
  }
  const deltas = events.flatMap((e) => (e.event === 'message' ? [e.answer] : []));
  return { events, deltas, error };
}

/**
 * Runs a turn and aborts it once `stopAfter` says so (the turn's signal is supplied here):
 * every event before the stop, the error the run ended with, and when the stop happened
 * (performance.now(), to time how fast the upstream connection closes).
 */
export async function runUntilStopped(
  agent: Agent,
  query: string,
  stopAfter: (event: AgentEvent) => boolean,
): Promise<{ events: AgentEvent[]; error: unknown; stoppedAt: number }> {
  const controller = new AbortController();
  const events: AgentEvent[] = [];
  let stoppedAt = 0;
  let error: unknown;
  try {
    for await (const event of agent.run(turn(query, [], { signal: controller.signal }))) {
      events.push(event);
      if (stopAfter(event)) {
        stoppedAt = performance.now();
        controller.abort();
      }
    }
  } catch (err) {
    error = err;
  }
  return { events, error, stoppedAt };
}

/** Small limits so timeout and retry tests stay fast; pings off unless a test asks for them. */
export const FAST = {
  firstByteTimeoutMs: 2000,
  idleTimeoutMs: 2000,
  pingIntervalMs: 60_000,
  maxRetries: 2,
  retryBackoffMs: 5,
  probeTimeoutMs: 1000,
};
