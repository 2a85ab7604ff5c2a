/**
 * Connections (issue 11, item 5): idle, slow and abandoned connections are cut (408 where HTTP
 * says so) and the server keeps answering; connections are capped; a refused request's socket is
 * closed at once; open streams are capped per API key and per client IP.
 */
import { connect, type Socket } from 'node:net';
import { waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorBody, type Json } from './support/http-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** A raw TCP connection to the server (to send partial requests, or nothing at all). */
async function raw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let data = '';
  let done = false;
  socket.on('data', (c: Buffer) => (data += c.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed, isClosed: () => done };
}

const hostOf = (url: string) => new URL(url).host;

describe('timeouts and the connection cap', () => {
  let server: TestServer;
  const MAX = 40;
  beforeAll(async () => {
    server = await startTestServer({
      HEADERS_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
      MAX_CONNECTIONS: String(MAX),
      RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(() => server?.dispose());

  const openConnections = () => new Promise<number>((resolve) => server.server.getConnections((_e, n) => resolve(n)));

  it(`caps connections at MAX_CONNECTIONS, cuts idle ones after HEADERS_TIMEOUT_MS, then answers again`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX }, () => raw(server.url)));
    await waitFor(async () => (await openConnections()) === MAX, 5000);
    // Over the cap: accepted by the kernel, closed by the server at once, unanswered.
    const extra = await raw(server.url);
    extra.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(server.url)}\r\n\r\n`);
    await extra.closed;
    expect(extra.received()).toBe('');
    // The idle connections (they never sent a byte) are cut: a 408, then closed.
    await Promise.all(idle.map((c) => c.closed));
    for (const c of idle) expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  }, 20_000);

  it('answers headers that trickle in slower than HEADERS_TIMEOUT_MS with 408 and closes', async () => {
    const c = await raw(server.url);
    c.socket.write(`GET /get_conversation_list HTTP/1.1\r\nHost: ${hostOf(server.url)}\r\n`);
    const trickle = setInterval(() => {
      if (!c.isClosed()) c.socket.write('X-Slow: a\r\n');
    }, 200);
    await c.closed;
    clearInterval(trickle);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const body = JSON.parse(c.received().split('\r\n\r\n')[1] ?? '') as Json;
    expect(body).toEqual({ message: '请求超时', error: 'the request was not received in time' });
  }, 20_000);

  it('answers a body that does not arrive within REQUEST_TIMEOUT_MS with 408 and closes', async () => {
    const c = await raw(server.url);
    c.socket.write(
      `POST /converse HTTP/1.1\r\nHost: ${hostOf(server.url)}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`,
    );
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(await requestJson(`${server.url}/get_conversation_list`).then((r) => (r.body as Json).data)).toEqual([]);
  }, 20_000);

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const c = await raw(server.url);
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(server.url)}\r\n\r\n`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.received()).toMatch(/Keep-Alive: timeout=1\r\n/);
  }, 20_000);
});

describe('a refused request with a body still to come', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Long timeouts: only the refusal itself can close the socket within the test.
    server = await startTestServer({
      API_KEYS: 'conn-key-0123456789abcd:alice:user',
      HEADERS_TIMEOUT_MS: '60000',
      REQUEST_TIMEOUT_MS: '120000',
      KEEP_ALIVE_TIMEOUT_MS: '60000',
    });
  });
  afterAll(() => server?.dispose());

  it('gets its 401 and the socket is closed at once, not kept for the body', async () => {
    const c = await raw(server.url);
    c.socket.write(
      `POST /converse HTTP/1.1\r\nHost: ${hostOf(server.url)}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`,
    );
    const closedInTime = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    expect(closedInTime, c.received()).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(c.received()).toMatch(/\r\nConnection: close\r\n/i);
  }, 20_000);
});

describe('open streams per API key and per client IP', () => {
  const KEY = 'streams-key-0123456789a';
  const OTHER = 'streams-key-0123456789b';
  let keyed: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    keyed = await startTestServer({ API_KEYS: `${KEY}:alice:user,${OTHER}:bob:user`, MAX_STREAMS_PER_KEY: '3', RATE_LIMIT_PER_MINUTE: '0' });
    open = await startTestServer({ MAX_STREAMS_PER_IP: '2', RATE_LIMIT_PER_MINUTE: '0' });
  });
  afterAll(async () => {
    await keyed?.dispose();
    await open?.dispose();
  });

  /** Opens a `clients.watch` SSE stream; its status, and (when 200) an abort that ends it. */
  async function watch(url: string, headers: Record<string, string> = {}) {
    const controller = new AbortController();
    const res = await fetch(`${url}/trpc/clients.watch?input=${encodeURIComponent('{}')}`, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    if (res.status !== 200) return { status: res.status, body: (await res.json()) as Json, retryAfter: res.headers.get('retry-after'), close: () => undefined };
    // Read the first event so the stream is surely open.
    const reader = res.body!.getReader();
    await reader.read();
    return { status: 200, body: undefined, retryAfter: null, close: () => controller.abort() };
  }

  it('refuses the fourth stream of a key with 429 (SSE and NDJSON alike), and takes it again once one ends', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const streams = [await watch(keyed.url, auth), await watch(keyed.url, auth), await watch(keyed.url, auth)];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);

    const fourth = await watch(keyed.url, auth);
    expect(fourth.status).toBe(429);
    expect(fourth.body).toEqual({ message: '请求过于频繁', error: 'at most 3 open streams per API key; close one first' });
    expect(Number(fourth.retryAfter)).toBeGreaterThan(0);
    // A streaming answer is a stream too: refused before the turn starts.
    const ndjson = await requestJson(`${keyed.url}/converse`, { body: { query: 'hello', response_mode: 'streaming' }, headers: auth });
    expectErrorBody(ndjson, 429, '对话请求出错');
    expect((await requestJson(`${keyed.url}/get_conversation_list`, { headers: auth }).then((r) => r.body as Json)).data).toEqual([]);
    // Calls that are not streams go on; another key has its own count.
    expect((await requestJson(`${keyed.url}/get_conversation_list`, { headers: auth })).status).toBe(200);
    const bobs = await watch(keyed.url, { authorization: `Bearer ${OTHER}` });
    expect(bobs.status).toBe(200);
    bobs.close();

    streams[0]!.close();
    let again: Awaited<ReturnType<typeof watch>> | undefined;
    await waitFor(async () => {
      again = await watch(keyed.url, auth);
      return again.status === 200;
    }, 5000);
    for (const s of [...streams, again!]) s.close();
  }, 30_000);

  it('without keys, counts per client IP', async () => {
    const a = await watch(open.url, { 'x-colloquy-user': 'u1' });
    const b = await watch(open.url, { 'x-colloquy-user': 'u2' });
    const c = await watch(open.url, { 'x-colloquy-user': 'u3' });
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    expect(c.body.error).toBe('at most 2 open streams per client address; close one first');
    a.close();
    b.close();
  }, 30_000);
});
