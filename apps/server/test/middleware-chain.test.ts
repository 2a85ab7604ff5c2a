/**
 * The per-request middleware chain kept cheap without changing what it does: helmet's headers
 * precomputed once, access lines built only when their level is on, no ETags on API answers,
 * requests and responses born with the app's prototypes.
 */
import type { AddressInfo } from 'node:net';
import { get, type Server } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer } from '../src/http/app-server.ts';
import { createLogger, requestLogging } from '../src/observability/logging.ts';
import { securityHeaders } from '../src/security/index.ts';
import { staticHeaders } from '../src/security/headers.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Serves `app` on an ephemeral port for the enclosing describe block. */
function serve(app: express.Express, server: (app: express.Express) => Server = createAppServer) {
  let running: Server;
  let url = '';
  beforeAll(async () => {
    running = server(app);
    await new Promise<void>((resolve) => running.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(running.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    running.closeAllConnections();
    await new Promise((resolve) => running.close(resolve));
  });
  return () => url;
}

describe('security headers precomputed from helmet', () => {
  const live = express();
  live.use(helmet({ contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'upgrade-insecure-requests': null } } }));
  live.get('/', (_req, res) => void res.send('x'));
  const liveUrl = serve(live);

  it('records exactly what helmet sets on a real response', async () => {
    const ops = staticHeaders(helmet({ contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'upgrade-insecure-requests': null } } }));
    const res = await fetch(`${liveUrl()}/`);
    await res.text();
    const set = ops.flatMap((op) => ('set' in op ? [[op.set.toLowerCase(), String(op.value)] as const] : []));
    expect(set.length).toBeGreaterThanOrEqual(12);
    for (const [name, value] of set) expect(res.headers.get(name), name).toBe(value);
    expect(ops).toContainEqual({ remove: 'X-Powered-By' });
  });

  it('refuses a configuration whose headers depend on the request or differ per call', () => {
    const nonce = (req: unknown) => `'nonce-${String((req as { id?: string }).id)}'`;
    expect(() => staticHeaders(helmet({ contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src': [nonce] } } }))).toThrow(
      /cannot be precomputed/,
    );
    expect(() => staticHeaders((_req, _res, next) => setTimeout(next, 0))).toThrow(/synchronously/);
  });

  it('mounts one middleware for helmet (and CORS only when configured)', () => {
    expect(securityHeaders([])).toHaveLength(1);
    expect(securityHeaders(['https://app.example.com'])).toHaveLength(2);
  });
});

describe('access lines and req.log', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = express();
  app.use(requestLogging(logger));
  app.get('/ok', (req, res) => {
    req.log.warn({ note: 'from the handler' }, 'handler line');
    res.json({ ok: true });
  });
  app.get('/quiet', (_req, res) => void res.json({ ok: true }));
  app.get('/fails', (_req, res) => void res.status(503).json({ down: true }));
  const url = serve(app);

  it('writes nothing for a success at warn, but req.log works and carries the id', async () => {
    await (await fetch(`${url()}/ok`, { headers: { 'X-Request-Id': 'chain-1' } })).text();
    await (await fetch(`${url()}/quiet`, { headers: { 'X-Request-Id': 'chain-2' } })).text();
    expect(lines.filter((l) => l.reqId === 'chain-2')).toEqual([]);
    const mine = lines.filter((l) => l.reqId === 'chain-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 40, msg: 'handler line', note: 'from the handler' });
  });

  it('logs a failure at error with the request, response, time and an err', async () => {
    const res = await fetch(`${url()}/fails?x=1`, { headers: { 'X-Request-Id': 'chain-3', Authorization: 'Bearer s3cret' } });
    await res.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = lines.find((l) => l.reqId === 'chain-3') as Record<string, any>;
    expect(line).toMatchObject({ level: 50, msg: 'GET /fails 503', req: { id: 'chain-3', method: 'GET', url: '/fails?x=1', query: { x: '1' } } });
    expect(line.req.headers.authorization).toBe('[redacted]');
    expect(line.res.statusCode).toBe(503);
    expect(line.res.headers['x-request-id']).toBe('chain-3');
    expect(line.err.message).toBe('failed with status code 503');
    expect(typeof line.responseTime).toBe('number');
  });
});

describe('the app server', () => {
  const app = express();
  let seen: { sameRequestProto: boolean; sameResponseProto: boolean } | undefined;
  app.get('/', (req, res) => {
    seen = { sameRequestProto: Object.getPrototypeOf(req) === app.request, sameResponseProto: Object.getPrototypeOf(res) === app.response };
    res.json({ path: req.path, query: req.query, ip: req.ip });
  });
  const url = serve(app);

  it("creates requests and responses with the app's prototypes; Express works as before", async () => {
    const res = await fetch(`${url()}/?a=1`);
    expect(await res.json()).toEqual({ path: '/', query: { a: '1' }, ip: '127.0.0.1' });
    expect(seen).toEqual({ sameRequestProto: true, sameResponseProto: true });
  });
});

describe('ETags', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.dispose());

  it('API answers carry none; the web app’s assets keep theirs', async () => {
    for (const path of ['/get_conversation_list', '/no-such-route', '/trpc/agents.list']) {
      const res = await fetch(`${server.url}${path}`);
      await res.arrayBuffer();
      expect(res.headers.get('etag'), path).toBeNull();
    }
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${server.url}/`)).text())?.[1];
    expect(asset).toBeTruthy();
    const page = await fetch(`${server.url}${asset}`);
    await page.arrayBuffer();
    const etag = page.headers.get('etag');
    expect(etag).toBeTruthy();
    // node:http, not fetch: fetch adds `Cache-Control: no-cache` to conditional requests.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${server.url}${asset}`, { headers: { 'If-None-Match': etag! } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(304);
  });
});
