import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

export type { Logger };

/** The one logger: JSON lines to stdout (or `destination`), secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'colloquy' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]', 'req.headers["x-api-key"]'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A client's own request id is kept when it is short and plain; anything else gets a UUID. */
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const raw = req.headers['x-request-id'];
  const given = Array.isArray(raw) ? raw[0] : raw;
  return given !== undefined && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The request's path as the client sent it (mounted middleware rewrites `req.url`). */
const pathOf = (req: IncomingMessage): string =>
  ((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/').split('?', 1)[0] ?? '/';

/** Paths probed every few seconds: not logged unless they fail. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Gives every request an id (`X-Request-Id` from the client when valid, else a UUID), returns it
 * on every response (set before anything is written, so error and streaming responses carry it
 * too), and logs one line per request when its response ends. `req.log` is a child logger whose
 * every line carries the id. Bodies are never logged; credentials are redacted.
 */
export function requestLogging(logger: Logger): RequestHandler {
  const middleware = pinoHttp({
    logger,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'reqId' },
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const id = requestIdOf(req);
      res.setHeader('X-Request-Id', id);
      // The router's context sees the id the response carries.
      req.headers['x-request-id'] = id;
      return id;
    },
    customLogLevel(req, res, err) {
      const failed = Boolean(err) || res.statusCode >= 500;
      if (QUIET_PATHS.has(pathOf(req))) return failed ? 'warn' : 'silent';
      if (failed) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
  });
  return middleware as unknown as RequestHandler;
}
