import type { Upstream } from './options.ts';

/** Whether a cheap GET answers 2xx within the probe timeout. Never throws. */
export async function probe(up: Upstream, url: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const response = await up.fetch(url, {
      method: 'GET',
      headers,
      signal: AbortSignal.timeout(up.timeouts.probeTimeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    return response.ok;
  } catch {
    return false;
  }
}
