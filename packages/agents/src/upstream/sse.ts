import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UpstreamError } from './errors.ts';
import { asFailure, idleTimeout, type OpenedResponse } from './open.ts';
import type { Upstream } from './options.ts';

export type { EventSourceMessage };

/** A single SSE event larger than this is a broken upstream, not an answer. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * The server-sent events of an answer body, in order. Lines the parser cannot make sense of
 * are skipped. The first-byte timeout (armed by `openUpstream`) covers the first chunk, the
 * idle timeout each later one; time the consumer spends between events does not count.
 * Returning early cancels the body, which closes the connection.
 */
export async function* readSse(up: Upstream, opened: OpenedResponse, signal: AbortSignal): AsyncGenerator<EventSourceMessage> {
  const { response, deadline } = opened;
  if (!response.body) {
    deadline.clear();
    throw new UpstreamError(`${up.label} sent an empty answer`, { code: 'invalid_response', secrets: up.secrets });
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const queue: EventSourceMessage[] = [];
  let overflow = false;
  const parser = createParser({
    onEvent: (event) => queue.push(event),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });

  let done = false;
  try {
    for (let first = true; ; first = false) {
      if (!first) deadline.arm(up.timeouts.idleTimeoutMs, () => idleTimeout(up));
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw asFailure(up, err, signal, deadline, 'upstream_closed');
      }
      deadline.clear();
      if (chunk.done) {
        done = true;
        parser.feed(decoder.decode());
      } else {
        parser.feed(decoder.decode(chunk.value, { stream: true }));
      }
      if (overflow) {
        throw new UpstreamError(`${up.label} sent an event larger than ${MAX_EVENT_CHARS} characters`, {
          code: 'invalid_response',
          secrets: up.secrets,
        });
      }
      while (queue.length > 0) yield queue.shift()!;
      if (done) return;
    }
  } finally {
    deadline.clear();
    if (!done) reader.cancel().catch(() => undefined);
  }
}
