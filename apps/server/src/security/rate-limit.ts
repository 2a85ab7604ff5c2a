import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { sendError } from '../http/error-envelope.ts';

/**
 * Requests per minute per API key, or per client IP for requests without a valid key (open
 * mode, and attempts with a wrong key). `express-rate-limit` keeps counts in its in-process
 * MemoryStore; for several server processes pass a shared `store` (e.g. `rate-limit-redis`
 * with REDIS_URL) here: nothing else changes.
 */
export function createRateLimiter(perMinute: number): RequestHandler | undefined {
  if (perMinute <= 0) return undefined;
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // `RateLimit` / `RateLimit-Policy` (IETF draft 8) on every response, `Retry-After` on 429s.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'colloquy',
    // Presence heartbeats (one per connected client every PRESENCE_TIMEOUT_MS/4, a map lookup
    // each) do not use up the budget: a user with many devices on one key would otherwise lose
    // them to rate limiting. The number of clients is bounded by MAX_CLIENTS_PER_USER.
    skip: (req) => req.method === 'POST' && req.path === '/trpc/clients.heartbeat',
    keyGenerator: (req) => (req.auth?.kind === 'key' ? `key:${req.auth.keyId}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`),
    handler: (_req, res) => {
      sendError(res, 429, '请求过于频繁', `rate limit of ${perMinute} requests per minute exceeded; retry after the Retry-After delay`);
    },
  });
}
