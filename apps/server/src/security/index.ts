import { readdirSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { RedisLink } from '@colloquy/store';
import type { Request, RequestHandler, Response } from 'express';
import { refuseConnection } from '../http/error-envelope.ts';
import { createKeyRing, RECOMMENDED_KEY_LENGTH, type ApiKeyEntry, type KeyRing } from './api-keys.ts';
import { identify, requireKey } from './auth.ts';
import { isLoopbackHost } from './network.ts';
import { createRateLimiter, rateBucket, redisRateLimitStore, type RateLimiter } from './rate-limit.ts';
import { createSiteCheck, type SiteCheck } from './origin.ts';
import { createStreamLimiter, type StreamLimiter } from './stream-limit.ts';

export { principalOf } from './auth.ts';
export { securityHeaders } from './headers.ts';
export { rateBucket } from './rate-limit.ts';
export { siteGuard } from './origin.ts';

export interface AccessControlOptions {
  apiKeys: readonly ApiKeyEntry[];
  rateLimitPerMinute: number;
  /** The largest tRPC batch (each of its calls counts against the rate limit). */
  maxBatchSize: number;
  /** Open streams per API key and per client IP (without a valid key); 0 for no cap. */
  maxStreamsPerKey: number;
  maxStreamsPerIp: number;
  /** Host names requests may name (`*`: any). */
  allowedHosts: readonly string[];
  /** Web origins besides the server's own that may call it from a browser (`*`: any). */
  corsOrigins: readonly string[];
  /**
   * Counts rate limits across instances when set (REDIS_URL); while Redis is unreachable requests
   * are let through rather than refused (/readyz reports the outage).
   */
  redis?: RedisLink;
}

/**
 * Who may call and how often: built once and shared by the HTTP routes and the WebSocket
 * upgrades, so both authenticate with the same keys and count against the same budgets.
 */
export interface AccessControl {
  ring: KeyRing;
  /** Undefined when rate limiting is off (RATE_LIMIT_PER_MINUTE=0). */
  limiter: RateLimiter | undefined;
  /** Open streams (SSE, NDJSON, live-video sockets) per key / per IP. */
  streams: StreamLimiter;
  /** Host and Origin checks (DNS rebinding, cross-site requests). */
  sites: SiteCheck;
}

export function createAccessControl(options: AccessControlOptions): AccessControl {
  return {
    ring: createKeyRing(options.apiKeys),
    limiter: createRateLimiter({
      perMinute: options.rateLimitPerMinute,
      maxBatchSize: options.maxBatchSize,
      ...(options.redis ? { store: redisRateLimitStore(options.redis), failOpen: true } : {}),
    }),
    streams: createStreamLimiter({ perKey: options.maxStreamsPerKey, perIp: options.maxStreamsPerIp }),
    sites: createSiteCheck({ allowedHosts: options.allowedHosts, corsOrigins: options.corsOrigins }),
  };
}

/** Seconds a caller refused at its stream cap is told to wait (streams end when their answers do). */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * Holds one of the caller's open-stream slots for as long as `res` is open. At the cap it answers
 * 429 (`message` as the route's failure message) and returns false.
 */
export function holdStream(access: AccessControl, req: Request, res: Response, message: string): boolean {
  const bucket = rateBucket(req.auth, req.ip);
  const release = access.streams.open(bucket);
  if (!release) {
    res.setHeader('Retry-After', String(STREAM_RETRY_AFTER_SECONDS));
    const per = bucket.startsWith('key:') ? 'API key' : 'client address';
    refuseConnection(req, res, 429, message, `at most ${access.streams.capOf(bucket)} open streams per ${per}; close one first`);
    return false;
  }
  res.once('close', release);
  return true;
}

/** tRPC subscriptions (`paths`: the router's subscription procedures) hold an open-stream slot each. */
export function subscriptionStreams(access: AccessControl, paths: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    // Mounted at /trpc: req.path is `/<procedure>` (subscriptions are never batched).
    if (!paths.has(req.path.slice(1)) || holdStream(access, req, res, '请求过于频繁')) next();
  };
}

/**
 * Authentication, then rate limiting, then refusal of unauthenticated requests — for every
 * route mounted after it (tRPC, REST, unknown routes). Health routes are mounted before it.
 * The console's static files (`publicDir`) are served to anyone: they hold no data, and a
 * browser cannot send a key to load them.
 */
export function accessGuard(access: AccessControl, publicDir: string): RequestHandler[] {
  const { ring, limiter } = access;
  const assets = staticAssetPaths(publicDir);
  const isAsset = (method: string, path: string) => (method === 'GET' || method === 'HEAD') && assets.has(path);
  const guarded = (handler: RequestHandler): RequestHandler => (req, res, next) =>
    isAsset(req.method, req.path) ? next() : handler(req, res, next);
  // Neither is mounted when it could not act: a disabled limiter (RATE_LIMIT_PER_MINUTE=0),
  // and the refusal when no keys are configured (`identify` then never refuses anyone).
  return [identify(ring), ...(limiter ? [guarded(limiter.middleware)] : []), ...(ring.size > 0 ? [guarded(requireKey)] : [])];
}

/** URL paths of the files in the console's directory (and `/` for its index page). */
function staticAssetPaths(dir: string): Set<string> {
  const paths = new Set<string>(['/']);
  try {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const rel = relative(dir, `${entry.parentPath}${sep}${entry.name}`).split(sep).join('/');
      paths.add(`/${rel}`);
    }
  } catch {
    // No console directory: nothing is public.
  }
  return paths;
}

/** Start-up warnings about the security configuration (never including a key). */
export function securityWarnings(config: { apiKeys: readonly ApiKeyEntry[]; host: string; allowOpen: boolean }): string[] {
  const warnings: string[] = [];
  if (config.apiKeys.length === 0) {
    warnings.push(
      isLoopbackHost(config.host)
        ? `no API_KEYS configured: running open (no authentication, any caller may act as any user) on loopback ${config.host}`
        : `no API_KEYS configured: running OPEN on ${config.host} because ALLOW_OPEN is set; anyone who can reach it may read and act as any user`,
    );
  }
  const short = config.apiKeys.filter((k) => k.key.length < RECOMMENDED_KEY_LENGTH);
  if (short.length > 0) {
    warnings.push(
      `${short.length} API key(s) shorter than ${RECOMMENDED_KEY_LENGTH} characters (users: ${short.map((k) => k.user).join(', ')}); use long random keys`,
    );
  }
  return warnings;
}
