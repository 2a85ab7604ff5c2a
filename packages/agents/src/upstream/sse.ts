import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Deadline } from './deadline.ts';
import { UpstreamError } from './errors.ts';
import { asFailure, idleTimeout, type OpenedResponse, type UpstreamResponse } from './open.ts';
import type { Upstream } from './options.ts';

export type { EventSourceMessage };

/** A single SSE event larger than this is a broken upstream, not an answer. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/** The most of an answer we still read after the consumer stopped early, to keep the connection. */
const MAX_DRAIN_BYTES = 64 * 1024;
/** ... and the longest we wait for it (or the idle timeout, when that is shorter). */
const MAX_DRAIN_MS = 2_000;

/**
 * The server-sent events of an answer body, in order. Lines the parser cannot make sense of
 * are skipped. The first-byte timeout (armed by `openUpstream`) covers the first chunk, the
 * idle timeout each later one; time the consumer spends between events does not count.
 * Returning early (after `[DONE]`, say) reads what little is left of the body in the background
 * so the keep-alive connection can serve the next request; a rest that is long or slow closes it.
 */
export async function* readSse(up: Upstream, opened: OpenedResponse, signal: AbortSignal): AsyncGenerator<EventSourceMessage> {
  const { response, deadline } = opened;
  if (hasNoBody(response)) {
    deadline.release();
    void response.body.dump().catch(() => undefined);
    throw new UpstreamError(`${up.label} sent an empty answer`, { code: 'invalid_response', secrets: up.secrets });
  }
  const body = response.body;
  // Node's stream iterator: one promise per read, and each read takes everything buffered.
  const chunks: AsyncIterator<Buffer> = body[Symbol.asyncIterator]();
  const decoder = new StringDecoder('utf8');
  const queue: EventSourceMessage[] = [];
  let overflow = false;
  // Callbacks as methods rather than named arrows: tsx (esbuild's keepNames) gives a named arrow
  // its `name` with defineProperty, which turns that closure's properties into a dictionary of
  // its own, once per stream.
  const parser = createParser({
    onEvent(event) {
      queue.push(event);
    },
    onError(error) {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  const onIdle = idleErrorOf(up);

  let done = false;
  try {
    for (let first = true; ; first = false) {
      if (!first) deadline.arm(up.timeouts.idleTimeoutMs, onIdle);
      let step: IteratorResult<Buffer>;
      try {
        step = await chunks.next();
      } catch (err) {
        throw asFailure(up, err, signal, deadline, 'upstream_closed');
      }
      deadline.pause();
      if (step.done) {
        done = true;
        parser.feed(decoder.end());
      } else {
        parser.feed(decoder.write(step.value));
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
    if (done || body.destroyed) {
      deadline.release();
    } else if (overflow) {
      // A broken upstream: close its connection rather than read on.
      deadline.release();
      discard(body);
    } else {
      void drain(up, body, chunks, deadline);
    }
  }
}

/** Each upstream's idle-timeout error maker, made once per upstream rather than once per stream. */
const idleErrors = new WeakMap<Upstream, () => UpstreamError>();

function idleErrorOf(up: Upstream): () => UpstreamError {
  let make = idleErrors.get(up);
  if (make === undefined) {
    make = () => idleTimeout(up);
    idleErrors.set(up, make);
  }
  return make;
}

/** 204 and 205 answers have no body by definition (fetch gave them a null body). */
function hasNoBody(response: UpstreamResponse): boolean {
  return response.statusCode === 204 || response.statusCode === 205;
}

/**
 * Reads the rest of a body the consumer no longer wants (after `[DONE]` that is normally just
 * the end of the chunked body, often already buffered), so undici can reuse the connection
 * instead of tearing it down. Never throws; always releases the deadline.
 */
async function drain(up: Upstream, body: UpstreamResponse['body'], chunks: AsyncIterator<Buffer>, deadline: Deadline): Promise<void> {
  // The deadline still guards the connection: a silent upstream is cut off, as mid-answer.
  deadline.arm(Math.min(up.timeouts.idleTimeoutMs, MAX_DRAIN_MS), idleErrorOf(up));
  let bytes = 0;
  try {
    for (;;) {
      const step = await chunks.next();
      if (step.done) return;
      bytes += step.value.length;
      if (bytes > MAX_DRAIN_BYTES) {
        discard(body);
        return;
      }
    }
  } catch {
    // The body was closed (timed out, or the connection dropped): nothing left to release.
  } finally {
    deadline.release();
  }
}

/** Closes the connection of a body we give up on; nobody reads the error that destroying it raises. */
function discard(body: UpstreamResponse['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}
