import { readdirSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { RequestHandler } from 'express';
import { createKeyRing, RECOMMENDED_KEY_LENGTH, type ApiKeyEntry } from './api-keys.ts';
import { identify, requireKey } from './auth.ts';
import { isLoopbackHost } from './network.ts';
import { createRateLimiter } from './rate-limit.ts';

export { principalOf } from './auth.ts';
export { securityHeaders } from './headers.ts';

export interface AccessGuardOptions {
  apiKeys: readonly ApiKeyEntry[];
  rateLimitPerMinute: number;
  /** The console's static files: served to anyone (they hold no data, and a browser cannot send a key to load them). */
  publicDir: string;
}

/**
 * Authentication, then rate limiting, then refusal of unauthenticated requests — for every
 * route mounted after it (tRPC, REST, unknown routes). Health routes are mounted before it.
 */
export function accessGuard(options: AccessGuardOptions): RequestHandler[] {
  const ring = createKeyRing(options.apiKeys);
  const assets = staticAssetPaths(options.publicDir);
  const isAsset = (method: string, path: string) => (method === 'GET' || method === 'HEAD') && assets.has(path);
  const guarded = (handler: RequestHandler): RequestHandler => (req, res, next) =>
    isAsset(req.method, req.path) ? next() : handler(req, res, next);
  // Neither is mounted when it could not act: a disabled limiter (RATE_LIMIT_PER_MINUTE=0),
  // and the refusal when no keys are configured (`identify` then never refuses anyone).
  const limiter = createRateLimiter(options.rateLimitPerMinute);
  return [identify(ring), ...(limiter ? [guarded(limiter)] : []), ...(ring.size > 0 ? [guarded(requireKey)] : [])];
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
