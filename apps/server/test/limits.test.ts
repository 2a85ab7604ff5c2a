/**
 * Limits (issue 5): exceeding a configured limit is a 413 (body, query, files per turn, batch,
 * file size) or a 429 with Retry-After (concurrent generations per user, requests per minute),
 * always as the JSON error envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorBody, type Json, type JsonResponse } from './support/http-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

const KEYS = { alice: 'alice-limits-key-0001', bob: 'bob-limits-key-000002' };
const API_KEYS = `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user`;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const call = (server: TestServer, key: string | undefined, method: string, path: string, body?: unknown, raw?: string) =>
  requestJson(`${server.url}${path}`, {
    method,
    ...(raw !== undefined ? { rawBody: raw } : body === undefined ? {} : { body }),
    headers: { ...(key ? auth(key) : {}), ...(raw !== undefined ? { 'content-type': 'application/json' } : {}) },
  });

const trpcCode = (res: JsonResponse): string | undefined => (res.body as Json)?.error?.data?.code;

describe('size and count limits → 413', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      API_KEYS,
      JSON_BODY_LIMIT: '4kb',
      MAX_QUERY_CHARS: '100',
      MAX_FILES_PER_TURN: '2',
      MAX_FILES_PER_BATCH: '3',
      MAX_FILE_BYTES: '64b',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) server.writeInbox(name, `File ${name} is short.`);
    server.writeInbox('big.txt', 'x'.repeat(65));
    server.writeInbox('exact.txt', 'y'.repeat(64));
  });
  afterAll(() => server?.dispose());

  const post = (path: string, body: unknown) => call(server, KEYS.alice, 'POST', path, body);

  it('a JSON body over JSON_BODY_LIMIT: REST 413 请求体过大, tRPC 413', async () => {
    const big = { query: 'q'.repeat(5000) };
    expectErrorBody(await post('/converse', big), 413, '请求体过大');
    expectErrorBody(await post('/upload_files', { file_paths: ['a'.repeat(5000)] }), 413, '请求体过大');
    expectErrorBody(await call(server, KEYS.alice, 'DELETE', '/delete_conv', { conversation_id: 'x'.repeat(5000) }), 413, '请求体过大');
    const trpc = await post('/trpc/chat.send', big);
    expect(trpc.status, trpc.text).toBe(413);
    expect(trpc.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('a query over MAX_QUERY_CHARS: 413 (REST 对话请求出错, tRPC PAYLOAD_TOO_LARGE); at the limit it runs', async () => {
    const rest = await post('/converse', { query: 'q'.repeat(101) });
    expectErrorBody(rest, 413, '对话请求出错');
    expect((rest.body as Json).error).toMatch(/longer than 100 characters/);
    expectErrorBody(await post('/converse', { query: 'q'.repeat(101), response_mode: 'streaming' }), 413, '对话请求出错');
    const trpc = await post('/trpc/chat.send', { query: 'q'.repeat(101) });
    expect([trpc.status, trpcCode(trpc)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // Counted after trimming, as stored.
    expect((await post('/converse', { query: ` ${'q'.repeat(100)} ` })).status).toBe(200);
  });

  it('more files in a turn than MAX_FILES_PER_TURN: 413, nothing stored', async () => {
    const before = await call(server, KEYS.alice, 'GET', '/get_conversation_list?limit=100');
    const rest = await post('/converse', { query: 'compare them', files: ['a.txt', 'b.txt', 'c.txt'], conversation_id: 'too-many' });
    expectErrorBody(rest, 413, '对话请求出错');
    expect((rest.body as Json).error).toMatch(/at most 2 files per turn/);
    const trpc = await post('/trpc/chat.send', { query: 'compare them', files: ['a.txt', 'b.txt', 'c.txt'] });
    expect([trpc.status, trpcCode(trpc)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await call(server, KEYS.alice, 'GET', '/get_conversation_list?limit=100')).body).toEqual(before.body);
    // Two are fine.
    await post('/upload_files', { file_paths: ['a.txt', 'b.txt'] });
    expect((await post('/converse', { query: 'compare them', files: ['a.txt', 'b.txt'] })).status).toBe(200);
  });

  it('a batch over MAX_FILES_PER_BATCH: 413 请提供有效的文件路径列表', async () => {
    expectErrorBody(await post('/upload_files', { file_paths: ['a.txt', 'b.txt', 'c.txt', 'd.txt'] }), 413, '请提供有效的文件路径列表');
    const trpc = await post('/trpc/files.uploadPaths', { paths: ['a.txt', 'b.txt', 'c.txt', 'd.txt'] });
    expect([trpc.status, trpcCode(trpc)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await post('/upload_files', { file_paths: ['a.txt', 'b.txt', 'c.txt'] })).status).toBe(200);
  });

  it('a file over MAX_FILE_BYTES (upload by path): 413; exactly the limit is fine', async () => {
    const res = await post('/upload_files', { file_paths: ['big.txt'] });
    expectErrorBody(res, 413, '请提供有效的文件路径列表');
    expect((res.body as Json).error).toMatch(/larger than 64 bytes/);
    const trpc = await post('/trpc/files.uploadPaths', { paths: ['big.txt'] });
    expect([trpc.status, trpcCode(trpc)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await post('/upload_files', { file_paths: ['exact.txt'] })).status).toBe(200);
  });
});

describe('concurrent generations per user → 429 + Retry-After', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Slow turns (about 25 deltas × 200 ms), so the first ones are still running.
    server = await startTestServer({
      API_KEYS,
      MAX_CONCURRENT_TURNS_PER_USER: '2',
      LOCAL_AGENT_DELTA_DELAY_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(() => server?.dispose());

  const send = (key: string, query = 'tell me a long story') => call(server, key, 'POST', '/trpc/chat.send', { query });
  const stop = (key: string, messageId: string) => call(server, key, 'POST', '/trpc/chat.stop', { messageId });
  const messageIdOf = (res: JsonResponse): string => (res.body as Json).result.data.messageId;

  it('refuses a third running turn of the same user, on tRPC and REST alike, and lets other users be', async () => {
    const first = await send(KEYS.alice);
    const second = await send(KEYS.alice);
    expect([first.status, second.status], first.text + second.text).toEqual([200, 200]);

    const third = await send(KEYS.alice);
    expect([third.status, trpcCode(third)], third.text).toEqual([429, 'TOO_MANY_REQUESTS']);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);

    for (const mode of ['blocking', 'streaming']) {
      const rest = await call(server, KEYS.alice, 'POST', '/converse', { query: 'and another', response_mode: mode });
      expectErrorBody(rest, 429, '对话请求出错');
      expect((rest.body as Json).error).toMatch(/at most 2 concurrent generations/);
      expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    }

    // Per user: Bob is not affected by Alice's turns.
    const bobs = await send(KEYS.bob);
    expect(bobs.status, bobs.text).toBe(200);

    // A refused turn stored nothing, and a turn that ends frees its slot.
    const stopped = await stop(KEYS.alice, messageIdOf(first));
    expect((stopped.body as Json).result.data.status).toBe('stopped');
    const again = await send(KEYS.alice);
    expect(again.status, again.text).toBe(200);

    for (const [key, res] of [
      [KEYS.alice, second],
      [KEYS.alice, again],
      [KEYS.bob, bobs],
    ] as const) {
      await stop(key, messageIdOf(res));
    }
    // first, second, again (all in Alice's current conversation): three turns; the refused ones left nothing.
    const conversationId = (first.body as Json).result.data.conversationId;
    const messages = await call(server, KEYS.alice, 'GET', `/trpc/messages.list?input=${encodeURIComponent(JSON.stringify({ conversationId }))}`);
    expect((messages.body as Json).result.data.items.map((m: Json) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });

  it('a turn refused for another reason does not use up a slot', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await call(server, KEYS.alice, 'POST', '/trpc/chat.send', { query: 'hi', files: ['never-uploaded.txt'] });
      expect(res.status).toBe(400);
    }
    const a = await send(KEYS.alice);
    const b = await send(KEYS.alice);
    expect([a.status, b.status]).toEqual([200, 200]);
    await stop(KEYS.alice, messageIdOf(a));
    await stop(KEYS.alice, messageIdOf(b));
  });
});

describe('rate limiting per key → 429 请求过于频繁 + Retry-After', () => {
  let server: TestServer;
  const LIMIT = 5;
  beforeAll(async () => {
    server = await startTestServer({ API_KEYS, RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  });
  afterAll(() => server?.dispose());

  it('answers the request over the limit with 429, the JSON body, Retry-After and RateLimit headers', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const ok = await call(server, KEYS.alice, 'GET', '/get_conversation_list');
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('ratelimit')).toMatch(new RegExp(`r=${LIMIT - 1 - i}`));
      expect(ok.headers.get('ratelimit-policy')).toMatch(new RegExp(`q=${LIMIT}; w=60`));
    }
    const limited = await call(server, KEYS.alice, 'GET', '/get_conversation_list');
    expectErrorBody(limited, 429, '请求过于频繁');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);

    // tRPC and every other route share the key's budget.
    const trpc = await call(server, KEYS.alice, 'GET', `/trpc/agents.list`);
    expectErrorBody(trpc, 429, '请求过于频繁');
    expectErrorBody(await call(server, KEYS.alice, 'POST', '/converse', { query: 'hi' }), 429, '请求过于频繁');
  });

  it('counts per key: another key still has its budget', async () => {
    expect((await call(server, KEYS.bob, 'GET', '/get_conversation_list')).status).toBe(200);
  });

  it('never limits health checks', async () => {
    for (let i = 0; i < LIMIT + 2; i++) expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('limits attempts without a valid key per client IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await call(server, 'guessed-key-000000000', 'GET', '/get_conversation_list')).status);
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429]);
    // Bob's key is counted on its own.
    expect((await call(server, KEYS.bob, 'GET', '/get_conversation_list')).status).toBe(200);
  });
});

describe('tRPC batches against the rate limit (issue 11, item 3)', () => {
  let server: TestServer;
  const LIMIT = 5;
  const KEYS3 = { ...KEYS, carol: 'carol-limits-key-00003' };
  beforeAll(async () => {
    server = await startTestServer({ API_KEYS: `${API_KEYS},${KEYS3.carol}:carol:user`, RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  });
  afterAll(() => server?.dispose());

  /** One HTTP request: a tRPC batch of `n` agents.list calls. */
  const batch = (key: string, n: number) =>
    call(server, key, 'GET', `/trpc/${Array.from({ length: n }, () => 'agents.list').join(',')}?batch=1&input=${encodeURIComponent('{}')}`);

  it('counts every call of a batch: a batch of 5 uses the whole budget of 5', async () => {
    const full = await batch(KEYS3.alice, LIMIT);
    expect(full.status, full.text).toBe(200);
    expect(full.body as Json[]).toHaveLength(LIMIT);
    expect(full.headers.get('ratelimit')).toMatch(/r=0/);
    expectErrorBody(await call(server, KEYS3.alice, 'GET', '/trpc/agents.list'), 429, '请求过于频繁');
  });

  it('refuses a batch of more calls than the budget has left, as a whole', async () => {
    const over = await batch(KEYS3.bob, LIMIT + 1);
    expectErrorBody(over, 429, '请求过于频繁');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a batch larger than MAX_BATCH_SIZE (default 10); it still counts as 10 calls', async () => {
    const huge = await batch(KEYS3.carol, 880);
    expect(huge.status, huge.text).toBe(429);
  });
});

describe('MAX_BATCH_SIZE caps tRPC batches', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', MAX_BATCH_SIZE: '3' });
  });
  afterAll(() => server?.dispose());

  it('answers a batch over the cap with a 400 and runs none of it; at the cap it runs', async () => {
    const paths = (n: number) => Array.from({ length: n }, () => 'chat.send').join(',');
    const inputs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { query: `batched ${i}`, user: 'batcher' }]));
    const over = await call(server, undefined, 'POST', `/trpc/${paths(4)}?batch=1`, inputs(4));
    expect(over.status, over.text).toBe(400);
    expect(over.headers.get('content-type')).toMatch(/^application\/json/);
    expect(over.text).toMatch(/Batch call exceeds maximum size/);
    const list = await call(server, undefined, 'GET', '/get_conversation_list?user=batcher');
    expect((list.body as Json).data).toEqual([]);
    const ok = await call(server, undefined, 'POST', `/trpc/${paths(3)}?batch=1`, inputs(3));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body as Json[]).toHaveLength(3);
  });
});

describe('rate limiting without keys (open mode) counts per client IP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => server?.dispose());

  it('the fourth request in a minute is a 429, whichever user it names', async () => {
    const statuses: number[] = [];
    for (const user of ['a', 'b', 'c', 'd']) statuses.push((await call(server, undefined, 'GET', `/get_conversation_list?user=${user}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('X-Forwarded-For and TRUST_PROXY (issue 11)', () => {
  const rotating = async (server: TestServer) => {
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const res = await fetch(`${server.url}/get_conversation_list`, { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      statuses.push(res.status);
    }
    return statuses;
  };

  it('by default trusts no proxy: a client rotating X-Forwarded-For is still one address', async () => {
    const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      expect(await rotating(server)).toEqual([200, 200, 200, 429]);
    } finally {
      await server.dispose();
    }
  });

  it('with TRUST_PROXY naming the proxy (here loopback), the forwarded address is the client', async () => {
    const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: 'loopback' });
    try {
      expect(await rotating(server)).toEqual([200, 200, 200, 200]);
    } finally {
      await server.dispose();
    }
  });
});

describe('RATE_LIMIT_PER_MINUTE=0 disables rate limiting', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  });
  afterAll(() => server?.dispose());

  it('sends no RateLimit headers and never answers 429', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await call(server, undefined, 'GET', '/get_conversation_list');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
  });
});
