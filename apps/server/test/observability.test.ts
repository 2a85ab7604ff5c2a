import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logging.ts';
import { converse, expectErrorBody, sleep, type Json } from './support/http-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

/** A logger whose JSON lines are kept in memory, for assertions. */
function captureLogs() {
  const lines: Json[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The value of one sample of the Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('request ids and logs', () => {
  let server: TestServer;
  const logs = captureLogs();
  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'info', LOCAL_AGENT_DELTA_DELAY_MS: '20' }, { logger: logs.logger });
  });
  afterAll(() => server.dispose());

  it('keeps a valid client id and returns it', async () => {
    const res = await requestJson(`${server.url}/get_conversation_list`, { headers: { 'X-Request-Id': 'client-42.a:b' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-42.a:b');
  });

  it('replaces a missing, too long or odd id with a UUID', async () => {
    const cases: Record<string, string>[] = [{}, { 'X-Request-Id': 'x'.repeat(129) }, { 'X-Request-Id': 'has space' }, { 'X-Request-Id': 'a/b' }];
    for (const headers of cases) {
      const res = await requestJson(`${server.url}/healthz`, { headers });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    }
    const a = await requestJson(`${server.url}/healthz`);
    const b = await requestJson(`${server.url}/healthz`);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('is on error responses, tRPC responses and streams', async () => {
    const notFound = await requestJson(`${server.url}/no/such/route`, { headers: { 'X-Request-Id': 'nf-1' } });
    expectErrorBody(notFound, 404);
    expect(notFound.headers.get('x-request-id')).toBe('nf-1');

    const badJson = await requestJson(`${server.url}/converse`, {
      rawBody: '{nope',
      headers: { 'content-type': 'application/json', 'X-Request-Id': 'bad-1' },
    });
    expectErrorBody(badJson, 400);
    expect(badJson.headers.get('x-request-id')).toBe('bad-1');

    const trpc = await requestJson(`${server.url}/trpc/agents.list`, { headers: { 'X-Request-Id': 'trpc-1' } });
    expect(trpc.status).toBe(200);
    expect(trpc.headers.get('x-request-id')).toBe('trpc-1');

    const stream = await fetch(`${server.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Request-Id': 'stream-1' },
      body: JSON.stringify({ query: 'hello there', response_mode: 'streaming', user: 'rid' }),
    });
    expect(stream.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(stream.headers.get('x-request-id')).toBe('stream-1');
    await stream.text();
  });

  it('logs one JSON line per request with its id, without credentials or bodies', async () => {
    const secret = 'sk-very-secret-key-value';
    const res = await requestJson(`${server.url}/upload_files`, {
      body: { file_paths: ['missing-secret-body-marker.txt'] },
      headers: { 'X-Request-Id': 'log-check-1', Authorization: `Bearer ${secret}`, Cookie: 'session=abc' },
    });
    expect(res.status).toBe(400);
    await sleep(50);
    const mine = logs.lines.filter((l) => l.reqId === 'log-check-1');
    expect(mine.length).toBeGreaterThanOrEqual(1);
    const done = mine.find((l) => l.res?.statusCode === 400);
    expect(done).toBeDefined();
    expect(done.level).toBe(40); // 4xx: warn
    expect(done.req.method).toBe('POST');
    expect(done.req.url).toBe('/upload_files');
    expect(typeof done.responseTime).toBe('number');
    expect(done.req.headers.authorization).toBe('[redacted]');
    expect(done.req.headers.cookie).toBe('[redacted]');
    const all = JSON.stringify(logs.lines);
    expect(all).not.toContain(secret);
    expect(all).not.toContain('missing-secret-body-marker');
  });

  it('does not log health probes', async () => {
    await requestJson(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'probe-1' } });
    await requestJson(`${server.url}/metrics`, { headers: { 'X-Request-Id': 'probe-2' } });
    await sleep(50);
    expect(logs.lines.filter((l) => l.reqId === 'probe-1' || l.reqId === 'probe-2')).toEqual([]);
  });
});

describe('metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOCAL_AGENT_DELTA_DELAY_MS: '40' });
    server.writeInbox('notes.md', 'The turbine spins at nine thousand revolutions per minute during the test run.');
  });
  afterAll(() => server.dispose());

  const metrics = async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  it('exposes every metric family in the text format', async () => {
    const text = await metrics();
    for (const name of [
      'colloquy_http_request_duration_seconds',
      'colloquy_active_streams',
      'colloquy_connected_clients',
      'colloquy_turns_active',
      'colloquy_agent_first_token_seconds',
      'colloquy_turn_duration_seconds',
      'colloquy_tokens_total',
      'colloquy_turns_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('reports open file descriptors without the per-handle-type walk (both scale with open connections)', async () => {
    const text = await metrics();
    const fds = Number(/^process_open_fds (\d+)$/m.exec(text)?.[1]);
    expect(fds).toBeGreaterThan(3);
    expect(text).toContain('# TYPE nodejs_active_handles_total gauge');
    expect(text).not.toContain('# TYPE nodejs_active_handles gauge');
  });

  it('labels HTTP durations by route pattern and status, never by raw URL', async () => {
    await requestJson(`${server.url}/get_conversation_list?user=u-${Date.now()}&limit=5`);
    await requestJson(`${server.url}/definitely/not/here/${Date.now()}`);
    await requestJson(`${server.url}/trpc/agents.list`);
    await requestJson(`${server.url}/trpc/not.a.procedure.${Date.now()}`);
    const text = await metrics();
    const count = (labels: Record<string, string>) => sample(text, 'colloquy_http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/get_conversation_list', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '(unmatched)', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/trpc/agents.list', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/trpc/(unknown)', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/route="[^"]*(\?|definitely|not\.a\.procedure)/);
  });

  it('counts open streams while an answer streams, and turns, tokens and times when it ends', async () => {
    const upload = await requestJson(`${server.url}/upload_files`, { body: { file_paths: ['notes.md'] } });
    expect(upload.status).toBe(200);
    const before = await metrics();
    expect(sample(before, 'colloquy_active_streams')).toBe(0);

    const res = await fetch(`${server.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'How fast does the turbine spin?', files: ['notes.md'], response_mode: 'streaming', user: 'm' }),
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open
    const during = await metrics();
    expect(sample(during, 'colloquy_active_streams')).toBe(1);
    // colloquy_connected_clients counts presence clients (none here), not streams.
    expect(sample(during, 'colloquy_connected_clients')).toBe(0);
    expect(sample(during, 'colloquy_turns_active')).toBe(1);
    while (!(await reader.read()).done);

    await sleep(50);
    const after = await metrics();
    expect(sample(after, 'colloquy_active_streams')).toBe(0);
    expect(sample(after, 'colloquy_turns_active')).toBe(0);
    expect(sample(after, 'colloquy_turns_total', { agent: 'local', status: 'complete' })).toBe(1);
    expect(sample(after, 'colloquy_agent_first_token_seconds_count', { agent: 'local' })).toBe(1);
    expect(sample(after, 'colloquy_turn_duration_seconds_count', { agent: 'local', status: 'complete' })).toBe(1);
    expect(sample(after, 'colloquy_tokens_total', { agent: 'local', kind: 'prompt' })).toBeGreaterThan(0);
    expect(sample(after, 'colloquy_tokens_total', { agent: 'local', kind: 'completion' })).toBeGreaterThan(0);
    expect(sample(after, 'colloquy_http_request_duration_seconds_count', { method: 'POST', route: '/converse', status_code: '200' })).toBe(1);
  });

  it('counts every finished turn by agent and status', async () => {
    const res = await converse(server.url, { query: 'x', user: 'm2' });
    expect(res.status).toBe(200);
    const text = await metrics();
    expect(sample(text, 'colloquy_turns_total', { agent: 'local', status: 'complete' })).toBe(2);
  });
});

describe('health and readiness', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.dispose());

  it('/healthz is always ok', async () => {
    const res = await requestJson(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when the store answers and every agent is reachable', async () => {
    const res = await requestJson(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', instance: server.services.live.instanceId, store: 'ok', storeDriver: server.services.store.driver, agents: { local: 'ok' } });
  });

  it('/readyz is 503 naming the store when it stops answering', async () => {
    const other = await startTestServer();
    try {
      await other.services.store.close();
      const res = await requestJson(`${other.url}/readyz`);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unavailable', store: 'unreachable', agents: { local: 'ok' } });
    } finally {
      other.server.closeAllConnections();
      await new Promise((resolve) => other.server.close(resolve));
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});

describe('readiness with an unreachable agent', () => {
  let hanging: Server;
  let server: TestServer;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: the check must give up after READINESS_TIMEOUT_MS.
    hanging = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    server = await startTestServer({
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      OPENAI_MODEL: 'm',
      OPENAI_API_KEY: 'k',
      READINESS_TIMEOUT_MS: '300',
    });
  });
  afterAll(async () => {
    await server.dispose();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it('answers 503 with each agent’s state, within the timeout', async () => {
    const started = Date.now();
    const res = await requestJson(`${server.url}/readyz`);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'unavailable',
      instance: server.services.live.instanceId,
      store: 'ok',
      storeDriver: server.services.store.driver,
      agents: { local: 'ok', openai: 'unreachable' },
    });
    expect(took).toBeLessThan(5000);
  });
});
