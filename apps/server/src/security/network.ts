import { isIPv4 } from 'node:net';
import proxyaddr from 'proxy-addr';

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

export class TrustProxyConfigError extends Error {
  override readonly name = 'TrustProxyConfigError';
}

/**
 * TRUST_PROXY: unset, `0`, `false`, `no` or `off` trusts no proxy (the client address is the
 * peer's; X-Forwarded-For is ignored, so a client cannot choose its own address). A number N
 * trusts the N nearest proxies; otherwise a comma-separated list of proxy addresses or subnets
 * (`10.0.0.0/8`), or the names `loopback`, `linklocal`, `uniquelocal`. Trusting every hop
 * (Express's `true`) is not offered: the client writes the left-most address itself.
 */
export function parseTrustProxy(value: string | undefined): false | number | string[] {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no' || v === 'off') return false;
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'true' || v === 'yes' || v === 'on') {
    throw new TrustProxyConfigError('TRUST_PROXY: "true" would believe any client-written X-Forwarded-For; give the number of proxies (1) or their addresses');
  }
  const list = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch (err) {
    throw new TrustProxyConfigError(`TRUST_PROXY: ${err instanceof Error ? err.message : String(err)} (expected a number of hops, addresses, subnets, or loopback/linklocal/uniquelocal)`);
  }
  return list;
}
