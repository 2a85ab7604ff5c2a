import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers (helmet) and CORS. None of helmet's headers affect streaming (no compression,
 * no buffering), so SSE and NDJSON answers are untouched. The console is same-origin files, so
 * `'self'` covers its script, stylesheet and fetches. A route that needs more (a docs page with
 * inline scripts) may set its own Content-Security-Policy after this middleware.
 */
export function securityHeaders(corsOrigins: readonly string[]): RequestHandler[] {
  const handlers: RequestHandler[] = [
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'frame-ancestors': ["'none'"],
          // The server speaks plain HTTP (TLS is a proxy's job): never rewrite the console's
          // requests to https.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  ];
  if (corsOrigins.length > 0) {
    handlers.push(
      cors({
        origin: corsOrigins[0] === '*' ? '*' : [...corsOrigins],
        // Bearer keys, not cookies: no credentials mode.
        credentials: false,
        exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'WWW-Authenticate'],
        maxAge: 600,
      }),
    );
  }
  return handlers;
}
