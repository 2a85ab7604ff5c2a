import { request } from 'undici';
import { isOk } from './open.ts';
import type { Upstream } from './options.ts';

/** Whether a cheap GET answers 2xx within the probe timeout. Never throws. */
export async function probe(up: Upstream, url: string, headers: Record<string, string>): Promise<boolean> {
  try {
    // The signal covers connecting and the whole body: it stays attached until the body ends.
    const response = await request(url, {
      dispatcher: up.dispatcher,
      method: 'GET',
      headers,
      signal: AbortSignal.timeout(up.timeouts.probeTimeoutMs),
    });
    // Read (and drop) the body so the connection can be reused; a large one closes it instead.
    await response.body.dump();
    return isOk(response.statusCode);
  } catch {
    return false;
  }
}
