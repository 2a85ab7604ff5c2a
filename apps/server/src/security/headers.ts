import type { OutgoingHttpHeader, ServerResponse } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The console's Content-Security-Policy. Only literal values: a per-request value (a nonce
 * function) would make helmet's output depend on the request, and `staticHeaders` below
 * relies on it not doing so.
 */
const CSP_DIRECTIVES: Record<string, readonly string[] | null> = {
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
};

/** What a middleware did to the response's headers, in order. */
export type HeaderOp = { set: string; value: OutgoingHttpHeader } | { remove: string };

/** An object any use of which (but the `allowed` methods) throws. */
function strict<T extends object>(what: string, allowed: T): T {
  return new Proxy(allowed, {
    get(target, key) {
      if (typeof key === 'string' && Object.hasOwn(target, key)) return target[key as keyof T];
      throw new Error(`security headers: helmet used ${what}.${String(key)}; its headers cannot be precomputed`);
    },
    set(_target, key) {
      throw new Error(`security headers: helmet set ${what}.${String(key)}; its headers cannot be precomputed`);
    },
  });
}

/**
 * Runs a helmet middleware once against a response that only records what is done to its
 * headers, and returns those operations. Helmet stays the source of truth for the header set;
 * this only avoids running its chain of a dozen middlewares (each calling `setHeader` and
 * `next`) on every request.
 *
 * That is exactly equivalent because, with the options used here, none of helmet's headers
 * depends on the request or the response: CSP is built from literal directives (helmet even
 * precomputes the string itself); Strict-Transport-Security is sent whatever the protocol
 * (helmet never looks at `req.secure`); every other middleware writes a constant, and
 * `xPoweredBy` removes a header. This is checked, not assumed: the request given to helmet
 * throws on any use, the response has nothing but `setHeader` and `removeHeader`, and the
 * middleware must call `next()` synchronously without an error. A helmet version (or option,
 * such as a nonce function) that looked at either would fail start-up here instead of being
 * frozen with one request's values.
 */
export function staticHeaders(middleware: RequestHandler): HeaderOp[] {
  const ops: HeaderOp[] = [];
  const recorder = strict('res', {
    setHeader(name: string, value: OutgoingHttpHeader) {
      ops.push({ set: name, value });
    },
    removeHeader(name: string) {
      ops.push({ remove: name });
    },
  });
  let done = false;
  middleware(strict('req', {}) as never, recorder as never, (err?: unknown) => {
    if (err !== undefined && err !== null) throw err instanceof Error ? err : new Error(String(err));
    done = true;
  });
  if (!done) throw new Error('security headers: the helmet middleware did not finish synchronously; cannot precompute its headers');
  return ops;
}

/**
 * Helmet's headers that only apply to a document a browser renders: its CSP, who may open or
 * frame it, the referrer and DNS prefetching of its links, and legacy switches for IE, Flash
 * and the XSS auditor. A streamed answer (NDJSON or SSE, always sent with `nosniff`, so never
 * sniffed into HTML) is no such document, so it goes without them. It pays there: an open
 * stream keeps its response headers for its whole life, twice (Node's header map and the
 * serialized block), ~1 KB of the 12 helmet headers per stream. What a stream keeps:
 * X-Content-Type-Options, Cross-Origin-Resource-Policy and Strict-Transport-Security.
 */
const DOCUMENT_ONLY_HEADERS = [
  'Content-Security-Policy',
  'Cross-Origin-Opener-Policy',
  'Origin-Agent-Cluster',
  'Referrer-Policy',
  'X-DNS-Prefetch-Control',
  'X-Download-Options',
  'X-Frame-Options',
  'X-Permitted-Cross-Domain-Policies',
  'X-XSS-Protection',
] as const;

/** Drops the document-only security headers from a streamed answer's response (before it is sent). */
export function streamSecurityHeaders(res: Pick<ServerResponse, 'removeHeader'>): void {
  for (const name of DOCUMENT_ONLY_HEADERS) res.removeHeader(name);
}

/**
 * Security headers (helmet) and CORS. None of helmet's headers affect streaming (no compression,
 * no buffering). The console is same-origin files, so
 * `'self'` covers its script, stylesheet and fetches. Every response (API JSON, errors,
 * streams, the console's files) gets the same set, but a streamed answer drops the document-only
 * ones (see DOCUMENT_ONLY_HEADERS). A route that needs more (a docs page with
 * inline scripts) may set its own Content-Security-Policy after this middleware.
 */
export function securityHeaders(corsOrigins: readonly string[]): RequestHandler[] {
  const ops = staticHeaders(helmet({ contentSecurityPolicy: { directives: CSP_DIRECTIVES } }));
  // Twice, so that a value drawn per call (a nonce that ignores the request) is caught too.
  if (JSON.stringify(staticHeaders(helmet({ contentSecurityPolicy: { directives: CSP_DIRECTIVES } }))) !== JSON.stringify(ops)) {
    throw new Error('security headers: helmet gave different headers on two runs; they cannot be precomputed');
  }
  const handlers: RequestHandler[] = [
    // Helmet's headers, replayed in helmet's order (its X-Powered-By removal included).
    function helmetHeaders(_req, res, next) {
      for (const op of ops) {
        if ('set' in op) res.setHeader(op.set, op.value);
        else res.removeHeader(op.remove);
      }
      next();
    },
  ];
  if (corsOrigins.length > 0) {
    handlers.push(
      cors({
        origin: corsOrigins[0] === '*' ? '*' : [...corsOrigins],
        // Bearer keys, not cookies: no credentials mode.
        credentials: false,
        // X-Colloquy-Conversation / -Message: the stored ids of an OpenAI-style answer.
        exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'WWW-Authenticate', 'X-Colloquy-Conversation', 'X-Colloquy-Message'],
        maxAge: 600,
      }),
    );
  }
  return handlers;
}
