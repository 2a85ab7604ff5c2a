import { randomUUID } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pino, stdSerializers, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger };

declare module 'http' {
  interface IncomingMessage {
    /** The request id (the response's X-Request-Id); set by `requestLogging`. */
    id: string;
    /** A child logger whose every line carries `reqId`; set by `requestLogging`. */
    log: Logger;
  }
}

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

/**
 * The id a request is known by. `randomUUID` is cheap (Node draws from a cached entropy pool:
 * ~40 ns) and unique across processes, so there is nothing to gain from a counter.
 */
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

/** Where `req.log` keeps the child logger it made. */
const REQ_LOG = Symbol('colloquy.log');

interface LazyLog {
  [REQ_LOG]?: Logger;
  id: string;
}

/**
 * Gives every request an id (`X-Request-Id` from the client when valid, else a UUID), returns it
 * on every response (set before anything is written, so error and streaming responses carry it
 * too), and logs one line per request when its response ends. `req.log` is a child logger whose
 * every line carries the id. Bodies are never logged; credentials are redacted.
 *
 * The line is what pino-http wrote (`reqId`, `req`, `res`, `responseTime`, and `err` for
 * failures; the same std serializers and redaction), but the work is only done when a line is
 * written: pino-http made two child loggers per request and serialized the request into one of
 * them up front, which is most of its cost when the level (e.g. `warn`) drops access lines.
 * Here `req.log` is made on first use (a getter on the app's request prototype) and the request
 * is serialized only into a line that is written.
 */
export function requestLogging(logger: Logger): RequestHandler {
  // pino-http's serializers (the std ones), on a child so `req.log` lines share them.
  const base = logger.child({}, { serializers: { req: stdSerializers.req, res: stdSerializers.res, err: stdSerializers.err } });
  const patched = new WeakSet<object>();

  /** `req.log`: made on first use, then kept; assignable like a plain property. */
  const lazyLog: PropertyDescriptor = {
    configurable: true,
    enumerable: false,
    get(this: LazyLog) {
      return (this[REQ_LOG] ??= base.child({ reqId: this.id }));
    },
    set(this: LazyLog, value: Logger) {
      this[REQ_LOG] = value;
    },
  };

  const write = (req: IncomingMessage, res: ServerResponse, started: number, err: Error | undefined) => {
    const failed = err !== undefined || res.statusCode >= 500;
    // Decide the level before building anything: most lines are dropped by the level. A quiet
    // path only ever lowers the level (error → warn, info/warn → silent), so a level that is
    // not enabled here is not enabled for it either.
    let level: Level = failed ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    if (!base.isLevelEnabled(level)) return;
    const path = pathOf(req);
    if (QUIET_PATHS.has(path)) {
      if (!failed) return;
      level = 'warn';
      if (!base.isLevelEnabled(level)) return;
    }
    const responseTime = Date.now() - started;
    const msg = `${req.method} ${path} ${res.statusCode}`;
    if (failed) {
      const error = err ?? new Error(`failed with status code ${res.statusCode}`);
      req.log[level]({ req, res, err: error, responseTime }, msg);
    } else {
      req.log[level]({ req, res, responseTime }, msg);
    }
  };

  return (req, res, next) => {
    const id = requestIdOf(req);
    res.setHeader('X-Request-Id', id);
    // The router's context sees the id the response carries.
    if (req.headers['x-request-id'] !== id) req.headers['x-request-id'] = id;
    req.id = id;
    // Express gives each app's requests a prototype of their own (`app.request`): the getter
    // goes there once. Never on Node's own IncomingMessage.prototype (shared by every server).
    const proto = Object.getPrototypeOf(req) as object;
    if (proto === IncomingMessage.prototype) Object.defineProperty(req, 'log', lazyLog);
    else if (!patched.has(proto)) {
      Object.defineProperty(proto, 'log', lazyLog);
      patched.add(proto);
    }
    // One line per response: when it closes ('close' comes once for every response, after
    // 'finish' when it completed, on its own when the client went away), or when it fails.
    const started = Date.now();
    let logged = false;
    const done = (err?: Error) => {
      if (logged) {
        if (err) req.log.error({ err }, 'response error after it ended');
        return;
      }
      logged = true;
      write(req, res, started, err);
    };
    res.once('close', done);
    res.on('error', done);
    next();
  };
}
