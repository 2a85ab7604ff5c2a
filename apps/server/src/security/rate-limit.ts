import type { RequestHandler } from 'express';
import type { RedisLink } from '@colloquy/store';
import { ipKeyGenerator, MemoryStore, rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { refuseConnection } from '../http/error-envelope.ts';
import type { RequestAuth } from './auth.ts';

const WINDOW_MS = 60_000;

export interface RateLimiterOptions {
  perMinute: number;
  /** The largest tRPC batch (tRPC refuses larger ones): a batch counts as this many requests at most. */
  maxBatchSize: number;
  /**
   * Where the counts live. Default: in this process (express-rate-limit's MemoryStore). Several
   * server processes pass a shared store (`redisRateLimitStore`): nothing else changes.
   */
  store?: Store;
  /**
   * Let requests through when the store fails (a shared store that is unreachable: /readyz
   * reports that) rather than answer them with an error.
   */
  failOpen?: boolean;
}

/**
 * The counts in Redis (REDIS_URL), shared by every instance: `rate-limit-redis` over the
 * process's shared command connection, keys under `<REDIS_PREFIX>rl:`.
 */
export function redisRateLimitStore(redis: RedisLink): Store {
  return new RedisStore({
    prefix: `${redis.prefix}rl:`,
    sendCommand: (command: string, ...args: string[]) => redis.command.call(command, ...args) as Promise<number>,
  });
}

export interface RateLimiter {
  /** Counts each request (each call of a tRPC batch) and answers 429 beyond the limit. */
  middleware: RequestHandler;
  /**
   * Counts one request made outside Express (a WebSocket upgrade) against `bucket`; resolves to
   * the seconds to wait when it is over the limit, else undefined.
   */
  hit(bucket: string): Promise<number | undefined>;
}

/**
 * The bucket a request counts against: its API key, or its client IP when it has no valid key
 * (open mode, and attempts with a wrong key). One rule for HTTP requests and WebSocket upgrades.
 */
export function rateBucket(auth: RequestAuth | undefined, ip: string | undefined): string {
  return auth?.kind === 'key' ? `key:${auth.keyId}` : `ip:${ipKeyGenerator(ip ?? 'unknown')}`;
}

/** How many calls a request makes: the procedures of a tRPC batch (`/trpc/a,b,c?batch=1`), else one. */
function callsOf(path: string, query: Record<string, unknown>): number {
  if (query.batch !== '1' || !path.startsWith('/trpc/')) return 1;
  return path.slice('/trpc/'.length).split(',').length;
}

/**
 * Requests per minute per API key, or per client IP for requests without a valid key. Every call
 * of a tRPC batch counts (up to `maxBatchSize`, beyond which tRPC refuses the batch): one HTTP
 * request of many calls uses as many requests of the budget. Undefined when disabled (0).
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter | undefined {
  const { perMinute } = options;
  if (perMinute <= 0) return undefined;
  const store = options.store ?? new MemoryStore();
  const limiter = rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    store,
    passOnStoreError: options.failOpen ?? false,
    // `RateLimit` / `RateLimit-Policy` (IETF draft 8) on every response, `Retry-After` on 429s.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'colloquy',
    // Presence heartbeats (one per connected client every PRESENCE_TIMEOUT_MS/4, a map lookup
    // each) do not use up the budget: a user with many devices on one key would otherwise lose
    // them to rate limiting. The number of clients is bounded by MAX_CLIENTS_PER_USER.
    skip: (req) => req.method === 'POST' && req.path === '/trpc/clients.heartbeat',
    keyGenerator: (req) => rateBucket(req.auth, req.ip),
    // express-rate-limit reads keyGenerator's source for `req.ip` without `ipKeyGenerator`;
    // rateBucket applies ipKeyGenerator (IPv6 addresses count per /56 subnet).
    validate: { keyGeneratorIpFallback: false },
    handler: (req, res) => {
      refuseConnection(req, res, 429, '请求过于频繁', `rate limit of ${perMinute} requests per minute exceeded; retry after the Retry-After delay`);
    },
  });
  return {
    middleware: (req, res, next) => {
      const extra = Math.min(callsOf(req.path, req.query as Record<string, unknown>), options.maxBatchSize) - 1;
      if (extra <= 0) {
        void limiter(req, res, next);
        return;
      }
      // The batch's other calls first; the limiter then counts the last one and decides.
      const bucket = rateBucket(req.auth, req.ip);
      (async () => {
        for (let i = 0; i < extra; i++) await store.increment(bucket);
      })().then(
        () => limiter(req, res, next),
        (err: unknown) => (options.failOpen ? limiter(req, res, next) : next(err)),
      );
    },
    async hit(bucket) {
      let counted;
      try {
        counted = await store.increment(bucket);
      } catch (err) {
        if (options.failOpen) return undefined;
        throw err;
      }
      const { totalHits, resetTime } = counted;
      if (totalHits <= perMinute) return undefined;
      return Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + WINDOW_MS) - Date.now()) / 1000));
    },
  };
}
