import type { IncomingHttpHeaders } from 'node:http';
import { isIP, isIPv6 } from 'node:net';
import type { RequestHandler } from 'express';
import { refuseConnection } from '../http/error-envelope.ts';

/**
 * Which sites may reach the server from a browser. Two checks, for HTTP requests and WebSocket
 * upgrades alike:
 *
 * - `Host` must name this server (ALLOWED_HOSTS), or be an IP address. A web page on
 *   attacker.example can make its name resolve to 127.0.0.1 (DNS rebinding): its requests then
 *   reach us, but say `Host: attacker.example`. An address in `Host` cannot come from such a
 *   page (rebinding needs a name), so addresses are always accepted: the server answers at
 *   whatever address it is reached by (a container's published port, a LAN address).
 * - `Origin`, when a browser sends one, must be this server's own origin or one of CORS_ORIGINS.
 *   Browsers send it with cross-site requests that need no preflight (a form's multipart POST),
 *   with WebSocket handshakes (which CORS does not cover at all) and with fetch/EventSource.
 *   Clients that are not browsers send none and are not affected.
 */
export interface SiteCheck {
  /** Undefined when the request may proceed; otherwise why it may not. */
  refusal(method: string, headers: IncomingHttpHeaders): SiteRefusal | undefined;
}

export interface SiteRefusal {
  status: 403 | 421;
  message: string;
  error: string;
}

export interface SiteCheckOptions {
  /** Host names (no port) requests may name; `*` allows any. */
  allowedHosts: readonly string[];
  /** CORS_ORIGINS: origins besides the server's own that may call it from a browser; `*` allows any. */
  corsOrigins: readonly string[];
}

const HOST_REFUSED: SiteRefusal = {
  status: 421,
  message: '主机名不被允许',
  error: 'this server does not answer to that host name (see ALLOWED_HOSTS)',
};
const ORIGIN_REFUSED: SiteRefusal = {
  status: 403,
  message: '来源不被允许',
  error: 'requests from this web origin are not allowed (see CORS_ORIGINS)',
};

export function createSiteCheck(options: SiteCheckOptions): SiteCheck {
  const anyHost = options.allowedHosts.includes('*');
  const hosts = new Set(options.allowedHosts.map(normalizeHostname));
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins);
  return {
    refusal(method, headers) {
      const host = headers.host;
      // HTTP/1.0 requests may come without a Host; browsers always send one.
      if (host !== undefined && !anyHost) {
        const name = hostnameOf(host);
        if (name === undefined || !(hosts.has(name) || isIP(name) !== 0)) return HOST_REFUSED;
      }
      const origin = headers.origin;
      // A CORS preflight carries the Origin it asks for; CORS answers it (or does not).
      if (origin === undefined || anyOrigin || method === 'OPTIONS') return undefined;
      if (origins.has(origin) || isSameOrigin(origin, host)) return undefined;
      return ORIGIN_REFUSED;
    },
  };
}

/** Refuses requests for another host (421) or from a foreign web origin (403), closing their connection. */
export function siteGuard(check: SiteCheck): RequestHandler {
  return (req, res, next) => {
    const refusal = check.refusal(req.method, req.headers);
    if (!refusal) {
      next();
      return;
    }
    refuseConnection(req, res, refusal.status, refusal.message, refusal.error);
  };
}

/** `Origin` names the scheme, host and port the request was sent to. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === 'null') return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    // Through URL on both sides, so default ports (`:80` / `:443`) compare equal to none.
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** The host name of a Host header (port and IPv6 brackets dropped, lower case), or undefined if it is not one. */
function hostnameOf(host: string): string | undefined {
  try {
    const url = new URL(`http://${host}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return normalizeHostname(url.hostname);
  } catch {
    return undefined;
  }
}

const normalizeHostname = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/**
 * The host names a server always answers to (besides any IP address): the name it listens on,
 * localhost, 127.0.0.1 and ::1. A DNS name the server is reached by must be listed in
 * ALLOWED_HOSTS.
 */
export function defaultAllowedHosts(listenHost: string): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1']);
  const listen = normalizeHostname(listenHost);
  if (!WILDCARDS.has(listen)) hosts.add(listen);
  return [...hosts];
}

export class AllowedHostsConfigError extends Error {
  override readonly name = 'AllowedHostsConfigError';
}

/**
 * ALLOWED_HOSTS: comma-separated host names or addresses (no port) the server answers to besides
 * the defaults (`defaultAllowedHosts`), or `*` for any.
 */
export function parseAllowedHosts(value: string | undefined, listenHost: string): string[] {
  const items = (value ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (items.includes('*')) {
    if (items.length > 1) throw new AllowedHostsConfigError('ALLOWED_HOSTS: "*" allows every host and cannot be combined with others');
    return ['*'];
  }
  const listed = items.map((item) => {
    const bare = item.replace(/^\[(.*)\]$/, '$1');
    if (isIPv6(bare) || /^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?$/i.test(bare)) return normalizeHostname(bare);
    throw new AllowedHostsConfigError(`ALLOWED_HOSTS: "${item}" is not a host name (no scheme, port or path: e.g. colloquy.example.com)`);
  });
  return [...new Set([...defaultAllowedHosts(listenHost), ...listed])];
}
