import type { StreamEvent } from '@colloquy/api';
import { isTrackedEnvelope } from '@trpc/server';
import type { Request, Response } from 'express';
import { answerFailure } from '../rest/rest-handler.ts';
import { streamSecurityHeaders } from '../security/headers.ts';

/**
 * How a streamed answer is written: REST's NDJSON lines, OpenAI's chat completion chunks or
 * Dify's SSE events. The events are the router's; a format only spells them.
 */
export interface StreamFormat {
  contentType: string;
  /** Sent first, with the headers (OpenAI's role chunk). */
  begin?(): string | undefined;
  /** The text of one event (undefined: nothing to send for it). */
  serialize(event: StreamEvent): string | undefined;
  /** Sent after the last event (OpenAI's `data: [DONE]`). */
  end?(): string | undefined;
  /** Sent when the stream fails after it began, before it ends (an SSE error event). */
  failure?(detail: string, err: unknown): string;
  /** Sent after this long without an event, so proxies and clients see a live connection. */
  keepAlive?: { intervalMs: number; text: string };
}

/**
 * A streaming answer: each event written as it arrives, the response ended with the stream. A
 * client that goes away stops only its own reading (the turn goes on and is stored): the events
 * are ended with `return()` (the stream log's readers end at once, also while waiting), and
 * `signal`, for a route that also needs one before the events exist, aborts.
 *
 * Callbacks on one small object rather than an async function: an open stream waits here for its
 * whole life, and a suspended async function keeps its frame (registers, its own promise, the
 * await's closures) alive on top of the one promise it waits on.
 */
export class StreamedAnswer {
  /**
   * Made only when a route asks for `signal`: an AbortSignal is ~0.9 KB that an open stream
   * would keep for its whole life, and `return()` on the events stops the reading without it.
   */
  #controller: AbortController | undefined;
  /** The client went away. */
  #closed = false;
  /** The response was ended (answered, or failed). */
  #ended = false;
  readonly #req: Request;
  readonly #res: Response;
  readonly #failureMessage: string;
  readonly #format: StreamFormat;
  #keepAlive: NodeJS.Timeout | undefined;
  /** Set by `start`, before anything reads it. */
  #events: AsyncIterator<unknown> | undefined;

  /** `failureMessage`: the route's REST `message` for a failure (see answerFailure). */
  constructor(req: Request, res: Response, failureMessage: string, format: StreamFormat) {
    this.#req = req;
    this.#res = res;
    this.#failureMessage = failureMessage;
    this.#format = format;
    res.on('close', () => {
      this.#closed = true;
      this.#controller?.abort();
      if (this.#keepAlive) clearInterval(this.#keepAlive);
      // A reader waiting for the next event ends now (its `next()` answers done).
      if (this.#events && !this.#ended) this.#stop().catch(ignore);
    });
  }

  /** Aborted when the client goes away. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#closed) this.#controller.abort();
    return this.#controller.signal;
  }

  /** Sends the headers, then relays `events` in the background; failures are answered here. */
  start(events: AsyncIterable<unknown>): void {
    this.open();
    this.relay(events);
  }

  /** Sends the headers (and the format's opening), before the events are known. */
  open(): void {
    const res = this.#res;
    res.status(200);
    streamSecurityHeaders(res);
    res.setHeader('Content-Type', this.#format.contentType);
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    const opening = this.#format.begin?.();
    if (opening !== undefined) res.write(opening);
    else res.flushHeaders();
    const keepAlive = this.#format.keepAlive;
    if (keepAlive) {
      this.#keepAlive = setInterval(() => {
        if (!res.writableEnded) res.write(keepAlive.text);
      }, keepAlive.intervalMs);
      this.#keepAlive.unref();
    }
  }

  /** Relays `events` in the background (after `open`); failures are answered here. */
  relay(events: AsyncIterable<unknown>): void {
    this.#events = events[Symbol.asyncIterator]();
    // The client may have gone while the events were being set up.
    this.#next();
  }

  #pull(): void {
    this.#events!.next().then(
      (result) => this.#write(result),
      (err: unknown) => this.#fail(err),
    );
  }

  #write(result: IteratorResult<unknown>): void {
    if (result.done) {
      this.#finish();
      return;
    }
    let flushed = true;
    try {
      const text = this.#format.serialize(untrack(result.value));
      if (text !== undefined) flushed = this.#res.write(text);
    } catch (err) {
      // As `for await` does when its body throws: end the events, then answer the failure.
      this.#stop().then(() => this.#fail(err), () => this.#fail(err));
      return;
    }
    if (flushed || this.#closed) this.#next();
    else {
      const res = this.#res;
      // A slow client: wait until the socket takes more (or is gone) before the next event.
      new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      }).then(() => this.#next());
    }
  }

  #finish(): void {
    this.#ended = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    const trailer = this.#format.end?.();
    if (trailer !== undefined) this.#res.end(trailer);
    else this.#res.end();
  }

  /** The next event, unless the client went away: then the events end and so does the response. */
  #next(): void {
    if (!this.#closed) this.#pull();
    else this.#stop().then(() => this.#res.end(), (err: unknown) => this.#fail(err));
  }

  /** Ends the events early (their reader stops following the stream). */
  #stop(): Promise<unknown> {
    return this.#events?.return?.() ?? Promise.resolve();
  }

  #fail(err: unknown): void {
    this.#ended = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    const res = this.#res;
    if (res.headersSent && !res.writableEnded && this.#format.failure) {
      res.write(this.#format.failure(err instanceof Error ? err.message : 'the stream failed', err));
    }
    answerFailure(this.#failureMessage, this.#req, res, err);
  }
}

/** A server-side caller yields tRPC's tracked envelopes; the event is their data. */
function untrack(item: unknown): StreamEvent {
  if (isTrackedEnvelope(item)) return item[1] as StreamEvent;
  return item as StreamEvent;
}

function ignore(): void {}
