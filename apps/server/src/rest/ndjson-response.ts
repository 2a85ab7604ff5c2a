import type { StreamEvent } from '@colloquy/api';
import { isTrackedEnvelope } from '@trpc/server';
import type { Request, Response } from 'express';
import { answerFailure } from './rest-handler.ts';

/**
 * A streaming REST answer: one JSON object per line, written as each event arrives, the response
 * ended with the stream. A client that goes away stops only its own reading (the turn goes on and
 * is stored): `signal` aborts, so the stream log's reader stops waiting for events.
 *
 * Callbacks on one small object rather than an async function: an open stream waits here for its
 * whole life, and a suspended async function keeps its frame (registers, its own promise, the
 * await's closures) alive on top of the one promise it waits on.
 */
export class NdjsonResponse {
  readonly #controller = new AbortController();
  readonly #req: Request;
  readonly #res: Response;
  readonly #failureMessage: string;
  /** Set by `start`, before anything reads it. */
  #events!: AsyncIterator<unknown>;

  /** `failureMessage`: the route's `message` for a failure (see answerFailure). */
  constructor(req: Request, res: Response, failureMessage: string) {
    this.#req = req;
    this.#res = res;
    this.#failureMessage = failureMessage;
    res.on('close', () => this.#controller.abort());
  }

  /** Aborted when the client goes away. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Sends the headers, then relays `events` in the background; failures are answered here. */
  start(events: AsyncIterable<unknown>): void {
    const res = this.#res;
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    this.#events = events[Symbol.asyncIterator]();
    this.#pull();
  }

  #pull(): void {
    this.#events.next().then(
      (result) => this.#write(result),
      (err: unknown) => this.#fail(err),
    );
  }

  #write(result: IteratorResult<unknown>): void {
    if (result.done) {
      this.#res.end();
      return;
    }
    let flushed: boolean;
    try {
      flushed = this.#res.write(`${JSON.stringify(untrack(result.value))}\n`);
    } catch (err) {
      // As `for await` does when its body throws: end the events, then answer the failure.
      this.#stop().then(() => this.#fail(err), () => this.#fail(err));
      return;
    }
    if (flushed) this.#next();
    else {
      const res = this.#res;
      // A slow client: wait until the socket takes more (or is gone) before the next event.
      new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      }).then(() => this.#next());
    }
  }

  /** The next event, unless the client went away: then the events end and so does the response. */
  #next(): void {
    if (!this.#controller.signal.aborted) this.#pull();
    else this.#stop().then(() => this.#res.end(), (err: unknown) => this.#fail(err));
  }

  /** Ends the events early (their reader stops following the stream). */
  #stop(): Promise<unknown> {
    return this.#events.return?.() ?? Promise.resolve();
  }

  #fail(err: unknown): void {
    answerFailure(this.#failureMessage, this.#req, this.#res, err);
  }
}

/** A server-side caller yields tRPC's tracked envelopes; the event is their data. */
function untrack(item: unknown): StreamEvent {
  if (isTrackedEnvelope(item)) return item[1] as StreamEvent;
  return item as StreamEvent;
}
