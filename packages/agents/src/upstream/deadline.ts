import type { UpstreamError } from './errors.ts';

/**
 * An abort signal on a re-armable timer: fetch and the body reader share it, so a timeout
 * closes the connection instead of leaving a read pending.
 */
export class Deadline {
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timeout error, once the deadline has passed. */
  get expired(): UpstreamError | undefined {
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as UpstreamError) : undefined;
  }

  arm(ms: number, error: () => UpstreamError): void {
    this.clear();
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => this.#controller.abort(error()), ms);
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
