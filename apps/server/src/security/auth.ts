import type { Principal } from '@colloquy/api';
import type { RequestHandler } from 'express';
import { refuseConnection } from '../http/error-envelope.ts';
import type { KeyRing } from './api-keys.ts';

/** What authentication found for a request; set once, by `identify`, before any route runs. */
export type RequestAuth =
  | { kind: 'open' }
  | { kind: 'key'; principal: Principal; keyId: string }
  | { kind: 'refused'; reason: 'missing' | 'invalid' };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the auth middleware (security/auth.ts). */
      auth?: RequestAuth;
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * The one place requests are authenticated: resolves the API key (if keys are configured) and
 * records the outcome on the request. Refusal happens in `requireKey`, after the rate limiter,
 * so that guessing keys is rate-limited per client IP too.
 */
export function identify(ring: KeyRing): RequestHandler {
  if (ring.size === 0) {
    return (req, _res, next) => {
      req.auth = OPEN;
      next();
    };
  }
  return (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    const match = token === undefined ? undefined : ring.authenticate(token);
    req.auth = match ? { kind: 'key', ...match } : { kind: 'refused', reason: token === undefined ? 'missing' : 'invalid' };
    next();
  };
}

/** Every request's outcome when no keys are configured (shared: nothing changes it). */
const OPEN: RequestAuth = Object.freeze({ kind: 'open' });

/** 401 for a request `identify` refused; the key itself is never echoed or logged. */
export const requireKey: RequestHandler = (req, res, next) => {
  const auth = req.auth;
  if (auth && auth.kind !== 'refused') {
    next();
    return;
  }
  res.setHeader(
    'WWW-Authenticate',
    auth?.reason === 'invalid' ? 'Bearer realm="colloquy", error="invalid_token"' : 'Bearer realm="colloquy"',
  );
  refuseConnection(req, res, 401, '未授权', 'missing or invalid API key');
};

/** The principal to hand the router (through `RequestInfo`), if the request carried a key. */
export const principalOf = (req: { auth?: RequestAuth }): Principal | undefined =>
  req.auth?.kind === 'key' ? req.auth.principal : undefined;
