import { isIPv4 } from 'node:net';

/** Whether HOST only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice('::ffff:'.length));
  return isIPv4(h) && h.startsWith('127.');
}

export class CorsConfigError extends Error {
  override readonly name = 'CorsConfigError';
}

/**
 * `CORS_ORIGINS`: comma-separated origins (`https://app.example.com`), or `*` for any. Unset
 * means same-origin only (no CORS headers at all).
 */
export function parseCorsOrigins(value: string | undefined): string[] {
  const items = (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (items.includes('*')) {
    if (items.length > 1) throw new CorsConfigError('CORS_ORIGINS: "*" allows every origin and cannot be combined with others');
    return ['*'];
  }
  return items.map((item) => {
    let origin: string;
    try {
      const url = new URL(item);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      origin = url.origin;
    } catch {
      throw new CorsConfigError(`CORS_ORIGINS: "${item}" is not an origin such as https://app.example.com`);
    }
    if (origin !== item.replace(/\/$/, '')) {
      throw new CorsConfigError(`CORS_ORIGINS: "${item}" is not a bare origin (scheme://host[:port], no path); did you mean ${origin}?`);
    }
    return origin;
  });
}
