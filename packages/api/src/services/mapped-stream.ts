/**
 * A source's values passed through a map, as an async iterator that is not a generator.
 *
 * An open stream spends its life waiting in `next()`. An async generator layer waiting there
 * keeps a generator object, a queued request, its own promise and an await's promise, reaction
 * and closures alive; this keeps one object and the promise `then` makes. Mapping a MappedStream
 * again composes the two maps over the same source, so the layers of a stream's path (the turn
 * service's, the procedure's) cost one wait, not one each.
 *
 * `return()` goes to the source, so ending early ends the source as `for await` in a generator
 * would (the stream log's reader then stops following).
 */
export class MappedStream<T> implements AsyncIterableIterator<T> {
  readonly #source: AsyncIterator<unknown>;
  /** Only ever applied to the source's values (typed by `of`). */
  readonly #map: (value: unknown) => T;

  private constructor(source: AsyncIterator<unknown>, map: (value: unknown) => T) {
    this.#source = source;
    this.#map = map;
  }

  static of<S, T>(source: AsyncIterable<S>, map: (value: S) => T): MappedStream<T> {
    const apply = map as (value: unknown) => T;
    if (source instanceof MappedStream) {
      // Fused: one wait on the inner source instead of one per layer.
      const first = (source as MappedStream<S>).#map;
      return new MappedStream(source.#source, (value) => apply(first(value)));
    }
    return new MappedStream(source[Symbol.asyncIterator](), apply);
  }

  next(): Promise<IteratorResult<T>> {
    return this.#source.next().then((result) => (result.done ? result : { value: this.#map(result.value), done: false }));
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    const source = this.#source;
    // As a generator's `return(value)` answers, whatever the source's own return gives.
    if (!source.return) return Promise.resolve({ value, done: true });
    return source.return(value).then(() => ({ value, done: true }));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
