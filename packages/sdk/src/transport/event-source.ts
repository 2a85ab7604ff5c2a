import { EventSource } from 'eventsource';

/**
 * The `eventsource` package (fetch-based, so it can send Authorization headers, which a
 * browser's native EventSource cannot) with its built-in reconnect turned off: a dropped
 * stream must surface as an error so the SDK re-attaches itself, with bounded retries and
 * backoff, from the last event id it saw.
 */
export class SingleConnectionEventSource extends EventSource {
  constructor(url: string | URL, init?: ConstructorParameters<typeof EventSource>[1]) {
    super(url, init);
    // Registered first, so tRPC's own error listener already sees the source CLOSED.
    this.addEventListener('error', () => {
      if (this.readyState !== this.CLOSED) this.close();
    });
  }
}
