/** The HTTP response behind a call's result. */
export interface RawResponse {
  /** HTTP status (0 if the result did not come from one response). */
  status: number;
  headers: Headers;
  /** The server's `X-Request-Id` (every response carries one). */
  requestId: string | undefined;
}

export interface WithResponse<T> {
  data: T;
  response: RawResponse;
}

/**
 * A call's result: await it for the data, or `withResponse()` for the data and the HTTP
 * response (status, headers, request id). The call starts at once, like any promise.
 */
export class APIPromise<T> extends Promise<T> {
  // `then` and friends come from the result, not from this promise's own (always-null) state.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  readonly #result: Promise<WithResponse<T>>;
  #data: Promise<T> | undefined;

  constructor(result: Promise<WithResponse<T>>) {
    super((resolve) => resolve(null as T));
    this.#result = result;
  }

  /** The data together with the HTTP response it came in. */
  withResponse(): Promise<WithResponse<T>> {
    return this.#result;
  }

  #value(): Promise<T> {
    this.#data ??= this.#result.then((r) => r.data);
    return this.#data;
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#value().then(onfulfilled, onrejected);
  }

  override catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#value().catch(onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#value().finally(onfinally);
  }
}
