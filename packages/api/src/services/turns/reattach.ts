import type { MessageRecord, Store, StreamEntry, StreamLog } from '@colloquy/store';
import { StreamLogUnavailableError } from '@colloquy/store';
import { isVisible, type Actor } from '../../access.ts';
import { AppError, notFound } from '../../errors/app-error.ts';
import type { StreamEvent } from '../../schemas/stream-event.ts';
import { MappedStream } from '../mapped-stream.ts';
import { snapshotEvent } from '../stream-event-builders.ts';
import type { ActiveTurns } from './active-turns.ts';
import type { TurnStartWaiters } from './start-waiters.ts';

export interface ReattachDeps {
  store: Store;
  streamLog: StreamLog<StreamEvent>;
  active: ActiveTurns;
  startWaiters: TurnStartWaiters;
}

/** How long a subscription may wait for its turn to start (`awaitStart`), and how often it looks again meanwhile. */
export const AWAIT_START_MS = 5_000;
const AWAIT_START_POLL_MS = 250;

/**
 * `streamEvents`, for a client that opened the subscription alongside the start (`awaitStart`):
 * a message that is not there yet — or not the actor's, which is answered exactly alike, after
 * the same wait — is waited for, woken at once by a start here, looked up again every
 * AWAIT_START_POLL_MS (a start on another instance), until AWAIT_START_MS; then NOT_FOUND.
 */
export async function streamEventsAwaitingStart(
  deps: ReattachDeps,
  actor: Actor,
  messageId: string,
  lastEventId: number,
  signal?: AbortSignal,
): Promise<AsyncIterable<StreamEvent>> {
  const deadline = Date.now() + AWAIT_START_MS;
  for (;;) {
    try {
      return await streamEvents(deps, actor, messageId, lastEventId, signal);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw err;
      const outcome = await deps.startWaiters.wait(actor.owner, messageId, Math.min(remaining, AWAIT_START_POLL_MS), signal);
      if (outcome === 'refused' || outcome === 'aborted') throw err;
    }
  }
}

/**
 * A message's events after `lastEventId`, live while it streams — on the instance that runs it
 * or any other (the shared log) — else the stored message as one final event. Access is checked
 * first: another user's message is answered exactly as a missing one.
 */
export async function streamEvents(
  deps: ReattachDeps,
  actor: Actor,
  messageId: string,
  lastEventId: number,
  signal?: AbortSignal,
): Promise<AsyncIterable<StreamEvent>> {
  // A turn running here is checked against its owner in memory: attaching right after `send`
  // (the usual case) costs no store reads.
  const running = deps.active.get(messageId);
  if (running) {
    if (!isVisible(actor, running.owner)) throw notFound('Message');
    const live = await readLog(deps, messageId, lastEventId, signal);
    if (live) return numbered(live);
  }
  const message = await visibleMessage(deps.store, actor, messageId);
  if (message.role !== 'assistant') throw new AppError('BAD_REQUEST', 'Only assistant messages have a stream');
  const live = await readLog(deps, messageId, lastEventId, signal);
  if (live) return numbered(live);
  // The live stream expired (or its instance died): the stored message stands for it.
  const after = Math.max(0, Math.floor(lastEventId));
  if (message.lastEventId > 0 && after >= message.lastEventId) return emptyStream();
  return singleEvent(snapshotEvent(message, Math.max(message.lastEventId, after + 1)));
}

/** The stored message if the actor may see it (a 404 otherwise, as for a missing one). */
export async function visibleMessage(store: Store, actor: Actor, messageId: string): Promise<MessageRecord> {
  const message = await store.messages.get(messageId);
  // A message carries its conversation's owner: another user's is reported like a missing one.
  if (!message || !isVisible(actor, message.userId)) throw notFound('Message');
  return message;
}

async function readLog(deps: ReattachDeps, messageId: string, after: number, signal: AbortSignal | undefined) {
  try {
    return await deps.streamLog.read(messageId, after, signal);
  } catch (err) {
    // A clear error rather than a stream that hangs: the client retries, or reads the stored message.
    if (err instanceof StreamLogUnavailableError) {
      throw new AppError('SERVICE_UNAVAILABLE', 'live streams are unavailable right now (the shared stream log cannot be reached); retry shortly', {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * The live events as the log holds them (already numbered): its entries' data, mapped without a
 * generator of our own, so a reader waiting for the next event costs one wait (see MappedStream).
 */
function numbered(entries: AsyncIterable<StreamEntry<StreamEvent>>): AsyncIterable<StreamEvent> {
  return MappedStream.of(entries, dataOf);
}

function dataOf(entry: StreamEntry<StreamEvent>): StreamEvent {
  return entry.data;
}

async function* singleEvent(event: StreamEvent): AsyncGenerator<StreamEvent> {
  yield event;
}

async function* emptyStream(): AsyncGenerator<StreamEvent> {
  return;
}
