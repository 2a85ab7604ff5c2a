import type { PresenceRegistry } from '@colloquy/store';
import type { Context } from '../context.ts';

/**
 * Counts `stream` as one of the calling client's open streams while it is being read, when the
 * request named a connected client (`X-Colloquy-Client`) of the user the call acts for.
 */
export async function countOpenStream<T>(ctx: Context, owner: string, stream: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const clientId = ctx.request.clientId;
  if (!clientId) return stream;
  const { presence } = ctx.services;
  const record = await presence.get(owner, clientId);
  if (!record) return stream;
  return new CountedStream(stream[Symbol.asyncIterator](), presence, owner, clientId);
}

/**
 * `source`, counted from its first read until it ends, fails or is returned (as an async
 * generator's `try/finally` around `yield*` would count it). An iterator object rather than a
 * generator: an open stream waits in it for its whole life (see MappedStream).
 */
class CountedStream<T> implements AsyncIterableIterator<T> {
  readonly #source: AsyncIterator<T>;
  readonly #presence: PresenceRegistry;
  readonly #userId: string;
  readonly #clientId: string;
  /** Not read yet, counted, or done (uncounted, or never read). */
  #state: 'new' | 'counted' | 'done' = 'new';

  constructor(source: AsyncIterator<T>, presence: PresenceRegistry, userId: string, clientId: string) {
    this.#source = source;
    this.#presence = presence;
    this.#userId = userId;
    this.#clientId = clientId;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#state === 'done') return Promise.resolve({ value: undefined, done: true });
    if (this.#state === 'new') {
      this.#state = 'counted';
      this.#presence.adjustStreams(this.#userId, this.#clientId, 1);
    }
    return this.#source.next().then(
      (result) => {
        if (result.done) this.#uncount();
        return result;
      },
      (err: unknown) => {
        this.#uncount();
        throw err;
      },
    );
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    // Returned before its first read, a generator ends without running (nor closing its source).
    if (this.#state !== 'counted') {
      this.#state = 'done';
      return Promise.resolve({ value, done: true });
    }
    const source = this.#source;
    const closing = source.return ? source.return(value) : Promise.resolve();
    return closing.then(
      () => {
        this.#uncount();
        return { value, done: true };
      },
      (err: unknown) => {
        this.#uncount();
        throw err;
      },
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #uncount(): void {
    if (this.#state !== 'counted') return;
    this.#state = 'done';
    this.#presence.adjustStreams(this.#userId, this.#clientId, -1);
  }
}
