/**
 * Property-based fuzzing of every REST route (issue 5), of tRPC calls, a subscription and
 * batches (issue 11), and of every OpenAI and Dify route (issue 15): 1,000 random requests per route
 * — random JSON values and objects mixing the route's own field names with junk, malformed and
 * binary bodies, random content types, random query strings, random keys — against a real server
 * process. Every answer is a 2xx or 4xx with a JSON body (NDJSON for a streamed answer), never a
 * 5xx; afterwards the process is still up and healthy, logged no error, and never logged a key.
 *
 * The server reads uploads only from its temp inbox and writes only under its temp DATA_DIR.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from '@colloquy/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUNS = 1000;
// A fixed seed unless FUZZ_SEED names another: each run sends the same requests, so a failure
// can be replayed, and the "some requests got through" checks below cannot fail on an unlucky
// draw (an unseeded run once sent 1,000 GET /v1/messages with no owner's conversation in them;
// seed 7 gets at least 6 of 1,000 through on every route).
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 7) });
const KEYS = { admin: 'fuzz-admin-key-000000001', user: 'fuzz-user-key-0000000002' };

let dirs: TempServerDirs;
let server: ServerProcess;
let inboxBefore: string[];

beforeAll(async () => {
  dirs = makeServerDirs('colloquy-fuzz-');
  writeFileSync(join(dirs.inbox, 'notes.txt'), 'The lighthouse keeper logs the weather every morning at six.');
  writeFileSync(join(dirs.inbox, 'data.json'), '{"a": 1, "b": [2, 3]}');
  inboxBefore = readdirSync(dirs.inbox).sort();
  server = await startServerProcess({
    DATA_DIR: dirs.dataDir,
    UPLOAD_ROOTS: dirs.inbox,
    API_KEYS: `${KEYS.admin}:ops:admin,${KEYS.user}:fuzzer:user`,
    LOCAL_AGENT_DELTA_DELAY_MS: '0',
    DEFAULT_RESPONSE_MODE: 'blocking',
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_CONCURRENT_TURNS_PER_USER: '0',
    FLUSH_INTERVAL_MS: '1000',
    LOG_LEVEL: 'info',
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  dirs?.remove();
});

// ---- arbitraries ---------------------------------------------------------------------------

/** Strings that hit the server's edge cases, next to fully random ones. */
const nastyString = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '../../etc/passwd',
  '/etc/passwd',
  '..',
  '.',
  '/dev/zero',
  '/dev/random',
  '/proc/self/environ',
  'notes.txt',
  'data.json',
  '../inbox/notes.txt',
  'notes.txt/',
  '%00',
  '%2e%2e%2f',
  '会话',
  '😀',
  '\ud800',
  'x'.repeat(5000),
  'null',
  '[]',
  '{}',
  'blocking',
  'streaming',
  'local',
  'ops',
  'fuzzer',
  'default',
  '__proto__',
  'constructor',
);
const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 3, arbitrary: nastyString },
);
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: anyString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.array(anyString, { maxLength: 25 }) },
  { weight: 1, arbitrary: fc.array(fc.record({ upload_file_id: anyString }, { requiredKeys: [] }), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);

/** Ids the server handed out during the run, so later requests name real records too. */
const seenIds = { conversation: [] as string[], message: [] as string[] };
const fromPool = (pool: string[]) => fc.nat().map((i) => pool[i % Math.max(1, pool.length)] ?? 'nothing-yet');
const USERS = fc.constantFrom('ops', 'fuzzer', 'u1', 'u2', 'default');
const PATHS = fc.constantFrom('notes.txt', 'data.json', 'missing.txt', '../notes.txt', '/etc/hostname', '.');

/** Values a real client would send for each field (the fuzz mixes them with junk). */
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  query: fc.oneof(fc.lorem({ maxCount: 12 }), fc.string({ minLength: 1, maxLength: 200 })),
  conversation_id: fc.oneof(fromPool(seenIds.conversation), fc.stringMatching(/^[\w.:@-]{1,24}$/), fc.uuid()),
  last_id: fromPool(seenIds.conversation),
  message_id: fc.oneof(fromPool(seenIds.message), fc.uuid()),
  files: fc.array(fc.oneof(PATHS, fc.record({ upload_file_id: PATHS })), { maxLength: 3 }),
  file_paths: fc.array(PATHS, { minLength: 1, maxLength: 4 }),
  response_mode: fc.constantFrom('blocking', 'streaming'),
  agent: fc.constantFrom('local'),
  agent_id: fc.constantFrom('local'),
  manager_id: fc.constantFrom('m1', 'm2'),
  user: USERS,
  user_id: USERS,
  limit: fc.integer({ min: -2, max: 120 }),
  inputs: fc.object({ maxDepth: 1 }),
  // tRPC's names for the same things.
  conversationId: fc.oneof(fromPool(seenIds.conversation), fc.stringMatching(/^[\w.:@-]{1,24}$/)),
  messageId: fc.oneof(fromPool(seenIds.message), fc.uuid()),
  lastEventId: fc.oneof(fc.nat({ max: 50 }), fc.nat({ max: 50 }).map(String)),
  paths: fc.array(PATHS, { minLength: 1, maxLength: 4 }),
  managerId: fc.constantFrom('m1', 'm2'),
  cursor: fc.base64String({ maxLength: 40 }),
  lastId: fromPool(seenIds.conversation),
  // OpenAI's and Dify's names.
  model: fc.constantFrom('local', 'local', 'gpt-4o'),
  messages: fc
    .tuple(
      fc.array(fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'developer'), content: fc.lorem({ maxCount: 6 }) }), { maxLength: 3 }),
      fc.lorem({ maxCount: 8 }),
    )
    .map(([history, query]) => [...history, { role: 'user', content: query }]),
  stream: fc.boolean(),
  stream_options: fc.record({ include_usage: fc.boolean() }),
  metadata: fc.record({ conversation_id: fc.oneof(fromPool(seenIds.conversation), fc.stringMatching(/^[\w.:@-]{1,24}$/)) }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  n: fc.constantFrom(1, 2),
  first_id: fc.oneof(fromPool(seenIds.message), fromPool(seenIds.conversation)),
  sort_by: fc.constantFrom('-updated_at', 'created_at'),
  pinned: fc.constantFrom('true', 'false'),
  name: fc.lorem({ maxCount: 3 }),
  auto_generate: fc.boolean(),
  auto_generate_name: fc.boolean(),
};
const valueFor = (field: string): fc.Arbitrary<unknown> =>
  PLAUSIBLE[field] ? fc.oneof({ weight: 4, arbitrary: PLAUSIBLE[field] }, { weight: 1, arbitrary: fieldValue }) : fieldValue;

/** The fields a route cannot do without (present in the "well-formed" share of bodies). */
const CORE = new Set(['query', 'file_paths', 'conversation_id', 'message_id', 'paths', 'messageId']);

/** A well-formed request object: plausible values only, the route's core fields present. */
const plausibleObject = (fields: string[]) =>
  fc.record(
    Object.fromEntries(fields.filter((f) => PLAUSIBLE[f]).map((f) => [f, PLAUSIBLE[f]!])) as Record<string, fc.Arbitrary<unknown>>,
    { requiredKeys: fields.filter((f) => CORE.has(f)) },
  );

/** An object with (some of) the route's field names, plus junk keys. */
const routeObject = (fields: string[]) =>
  fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, valueFor(f)])) as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] }),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...fields, '__proto__', 'constructor')), fieldValue, { maxKeys: 3 }),
    )
    .map(([known, extra]) => ({ ...extra, ...known }));

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=klingon',
      'application/vnd.api+json',
      'text/plain',
      'text/html',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=fuzz',
      'multipart/form-data',
      'application/octet-stream',
      'application/xml',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,15}(; ?[a-z]{1,8}=[a-z0-9-]{1,10})?$/) },
);

type Body = string | Uint8Array | undefined;

/** A request body: JSON of a route-shaped object, any JSON value, malformed text or bytes. */
const body = (fields: string[]): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 10, arbitrary: plausibleObject(fields).map((o) => JSON.stringify(o)) },
    { weight: 6, arbitrary: routeObject(fields).map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: fc.anything({ maxDepth: 4 }).map((v) => JSON.stringify(v) as string | undefined) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: routeObject(fields).map((o) => JSON.stringify(o).slice(0, -1)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

/** Any generated value as query-string text (objects as JSON; some have no prototype). */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return 'unprintable';
  }
}

/** A query string: the route's fields with random values, or raw URL junk. */
const queryString = (fields: string[]) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...fields).chain((f) => fc.tuple(fc.constant(f), valueFor(f).map(asText))) },
            { weight: 1, arbitrary: fc.tuple(fc.string(), fc.oneof(anyString, fc.integer().map(asText))) },
          ),
          { maxLength: 5 },
        )
        .map((pairs) => {
          const params = new URLSearchParams();
          for (const [k, v] of pairs) params.append(k, v.replace(/[\ud800-\udfff]/g, '?'));
          const s = params.toString();
          return s ? `?${s}` : '';
        }),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%&=+._~\-[\]]{0,60}$/).map((s) => `?${s}`) },
  );

/** Who is calling: mostly the admin key (so bodies reach the procedures), sometimes not. */
const credentials = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Record<string, string>>({ authorization: `Bearer ${KEYS.admin}` }) },
  { weight: 2, arbitrary: fc.constant<Record<string, string>>({ authorization: `Bearer ${KEYS.user}` }) },
  { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[\x21-\x7e]{0,40}$/)
      .map((junk): Record<string, string> => ({ authorization: `Bearer ${junk}`.trim() })),
  },
);
const extraHeaders = fc.record(
  {
    'x-colloquy-user': fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,20}$/), fc.constantFrom('ops', 'fuzzer', 'someone')),
    'x-request-id': fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
  },
  { requiredKeys: [] },
);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Body;
}

const request = (method: string, path: string, opts: { fields: string[]; query?: boolean; body?: boolean; contentTypes?: fc.Arbitrary<string | undefined> }) =>
  fc
    .record({
      query: opts.query ? queryString(opts.fields) : fc.constant(''),
      body: opts.body ? body(opts.fields) : fc.constant<Body>(undefined),
      type: opts.contentTypes ?? contentType,
      auth: credentials,
      extra: extraHeaders,
    })
    .map(
      ({ query, body: b, type, auth, extra }): FuzzRequest => ({
        method,
        path: `${path}${query}`,
        headers: { ...extra, ...auth, ...(type && b !== undefined ? { 'content-type': type } : {}) },
        body: b,
      }),
    );

/** Multipart bodies for POST /files: well-formed, truncated or odd parts with random names and content. */
const multipartBody = fc
  .record({
    parts: fc.array(
      fc.record({
        name: fc.oneof(fc.constantFrom('file', 'user', 'name', 'files'), fc.stringMatching(/^[\x20-\x7e]{0,12}$/)),
        filename: fc.option(fc.oneof(nastyString, fc.stringMatching(/^[\x20-\x7e]{0,20}$/)), { nil: undefined }),
        content: fc.oneof(anyString, fc.constantFrom('ops', 'fuzzer', 'hello world')),
        type: fc.option(fc.constantFrom('text/plain', 'application/pdf', 'image/png', 'x/y'), { nil: undefined }),
      }),
      { maxLength: 4 },
    ),
    cut: fc.option(fc.nat({ max: 400 }), { nil: undefined }),
    closed: fc.boolean(),
  })
  .map(({ parts, cut, closed }) => {
    let text = parts
      .map(
        (p) =>
          `--fuzz\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n` +
          `${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n${p.content}\r\n`,
      )
      .join('');
    if (closed) text += '--fuzz--\r\n';
    return cut === undefined ? text : text.slice(0, cut);
  });

const multipartRequest = (path: string) => fc.oneof(
  { weight: 3, arbitrary: request('POST', path, { fields: ['file', 'user'], body: true }) },
  {
    weight: 7,
    arbitrary: fc
      .record({ body: multipartBody, auth: credentials, boundary: fc.constantFrom('fuzz', 'fuzz', 'other', '') })
      .map(
        ({ body: b, auth, boundary }): FuzzRequest => ({
          method: 'POST',
          path,
          headers: { ...auth, 'content-type': `multipart/form-data${boundary ? `; boundary=${boundary}` : ''}` },
          body: b,
        }),
      ),
  },
);

/** A tRPC call: a mutation's JSON body, or a query's / subscription's `?input=` (JSON, mostly). */
const trpcRequest = (method: 'GET' | 'POST', procedure: string, fields: string[], headers: Record<string, string> = {}) =>
  fc
    .record({
      input: fc.oneof(
        { weight: 6, arbitrary: plausibleObject(fields).map((o) => JSON.stringify(o)) },
        { weight: 4, arbitrary: routeObject(fields).map((o) => JSON.stringify(o)) },
        { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) as string | undefined) },
        { weight: 1, arbitrary: fc.string() },
      ),
      auth: credentials,
      extra: extraHeaders,
    })
    .map(
      ({ input, auth, extra }): FuzzRequest =>
        method === 'GET'
          ? { method, path: `/trpc/${procedure}${input === undefined ? '' : `?input=${encodeURIComponent(input)}`}`, headers: { ...extra, ...auth, ...headers }, body: undefined }
          : { method, path: `/trpc/${procedure}`, headers: { ...extra, ...auth, 'content-type': 'application/json', ...headers }, body: input },
    );

const PROCEDURES = ['chat.send', 'conversations.list', 'conversations.get', 'messages.list', 'files.list', 'agents.list', 'chat.events', 'no.such'];

/** A tRPC HTTP batch: 1–15 calls (over MAX_BATCH_SIZE sometimes), random procedures and inputs. */
const trpcBatch = fc
  .record({
    calls: fc.array(fc.constantFrom(...PROCEDURES), { minLength: 1, maxLength: 15 }),
    inputs: fc.array(fc.oneof(plausibleObject(['query', 'user', 'conversationId', 'limit', 'messageId']), routeObject(['query', 'id', 'user'])), {
      maxLength: 15,
    }),
    get: fc.boolean(),
    auth: credentials,
  })
  .map(({ calls, inputs, get, auth }): FuzzRequest => {
    const input = JSON.stringify(Object.fromEntries(inputs.map((v, i) => [String(i), v])));
    const path = `/trpc/${calls.join(',')}?batch=1`;
    return get
      ? { method: 'GET', path: `${path}&input=${encodeURIComponent(input)}`, headers: auth, body: undefined }
      : { method: 'POST', path, headers: { ...auth, 'content-type': 'application/json' }, body: input };
  });

const filesRequest = multipartRequest('/files');

/** A request whose path names a record: an id seen earlier, a random one, or junk (encoded). */
const withPathId = (method: string, template: string, pool: string[], opts: Parameters<typeof request>[2]) =>
  fc
    .tuple(fc.oneof(fromPool(pool), fc.uuid(), anyString.map((v) => v.replace(/[\ud800-\udfff]/g, '?'))), request(method, template, opts))
    .map(([id, r]): FuzzRequest => ({ ...r, path: r.path.replace(':id', encodeURIComponent(id) || 'x') }));

// ---- the property --------------------------------------------------------------------------

async function send(r: FuzzRequest): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${server.url}${r.path}`, {
    method: r.method,
    headers: r.headers,
    ...(r.body === undefined ? {} : { body: typeof r.body === 'string' ? r.body : Buffer.from(r.body) }),
  });
  const answer = { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  if (answer.status === 200) collectIds(answer.text);
  return answer;
}

/** Conversation and message ids from a successful answer (JSON or NDJSON), for later requests. */
function collectIds(text: string): void {
  for (const line of text.split('\n')) {
    try {
      const v = JSON.parse(line) as { conversation_id?: unknown; message_id?: unknown };
      if (typeof v.conversation_id === 'string' && !seenIds.conversation.includes(v.conversation_id)) seenIds.conversation.push(v.conversation_id);
      if (typeof v.message_id === 'string' && !seenIds.message.includes(v.message_id)) seenIds.message.push(v.message_id);
    } catch {
      // not JSON: the assertions report it
    }
  }
}

function assertAnswer(r: FuzzRequest, res: { status: number; type: string; text: string }): void {
  const where = `${r.method} ${r.path} ${JSON.stringify(r.headers)} body=${JSON.stringify(typeof r.body === 'string' ? r.body.slice(0, 300) : r.body)}\n→ ${res.status} ${res.type} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(200);
  expect(res.status, where).toBeLessThan(500);
  if (res.status === 200 && res.type.startsWith('text/event-stream')) {
    // A subscription's stream: SSE fields only (its errors, if any, are events in it).
    for (const line of res.text.split('\n').filter((l) => l !== '')) expect(line, where).toMatch(/^(data|event|id|retry|): ?/);
    return;
  }
  if (res.status === 200 && res.type.startsWith('application/x-ndjson')) {
    const lines = res.text.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length, where).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), where).not.toThrow();
    return;
  }
  expect(res.type, where).toMatch(/^application\/json/);
  const parsed: unknown = JSON.parse(res.text);
  expect(typeof parsed, where).toBe('object');
  expect(parsed, where).not.toBeNull();
  if (Array.isArray(parsed)) {
    // A tRPC batch's answer: one result or error per call.
    expect(r.path, where).toMatch(/^\/trpc\/.*batch=1/);
    for (const item of parsed as { result?: unknown; error?: { message?: unknown } }[]) {
      expect(item.result !== undefined || typeof item.error?.message === 'string', where).toBe(true);
    }
    expect(res.text, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
    return;
  }
  expect(res.text, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
  if (res.status >= 400) {
    // tRPC keeps its own error shape ({error: {message, data}}), OpenAI's routes theirs
    // ({error: {message, type, param, code}}), Dify's theirs ({code, message, status}); the REST
    // routes answer {message, error}.
    const body = parsed as { message?: unknown; error?: unknown; code?: unknown; status?: unknown };
    const path = r.path.split('?')[0]!;
    if (path === '/v1/chat/completions' || path.startsWith('/v1/models')) {
      const error = body.error as { message?: unknown; type?: unknown } | undefined;
      expect(typeof error?.message, where).toBe('string');
      expect(typeof error?.type, where).toBe('string');
    } else if (path.startsWith('/v1/')) {
      expect(typeof body.code, where).toBe('string');
      expect(typeof body.message, where).toBe('string');
      expect(body.status, where).toBe(res.status);
    } else if (r.path.startsWith('/trpc/') && typeof body.error === 'object' && body.error !== null) {
      expect(typeof (body.error as { message?: unknown }).message, where).toBe('string');
    } else {
      expect(typeof body.message, where).toBe('string');
      expect(typeof body.error, where).toBe('string');
    }
  }
}

const ROUTES: [string, fc.Arbitrary<FuzzRequest>][] = [
  ['GET /get_conversation_list', request('GET', '/get_conversation_list', { fields: ['limit', 'last_id', 'manager_id', 'user', 'user_id'], query: true })],
  ['POST /upload_files', request('POST', '/upload_files', { fields: ['file_paths', 'user', 'user_id'], body: true })],
  [
    'POST /converse',
    request('POST', '/converse', {
      fields: ['query', 'conversation_id', 'files', 'response_mode', 'agent', 'agent_id', 'manager_id', 'user', 'user_id', 'inputs'],
      body: true,
      query: true,
    }),
  ],
  ['POST /stop_converse', request('POST', '/stop_converse', { fields: ['message_id', 'user', 'user_id'], body: true })],
  [
    'DELETE /delete_conv',
    request('DELETE', '/delete_conv', { fields: ['conversation_id', 'user', 'user_id'], query: true, body: true }),
  ],
  ['POST /files (multipart)', filesRequest],
  ['tRPC POST chat.send', trpcRequest('POST', 'chat.send', ['query', 'conversationId', 'files', 'agent', 'managerId', 'user'])],
  ['tRPC GET conversations.list', trpcRequest('GET', 'conversations.list', ['user', 'limit', 'cursor', 'lastId', 'managerId'])],
  ['tRPC POST files.uploadPaths', trpcRequest('POST', 'files.uploadPaths', ['paths', 'user'])],
  [
    'tRPC GET chat.events (subscription)',
    trpcRequest('GET', 'chat.events', ['messageId', 'lastEventId', 'user'], { accept: 'text/event-stream' }),
  ],
  ['tRPC batches', trpcBatch],
  // The OpenAI and Dify surfaces (issue 15).
  [
    'POST /v1/chat/completions',
    request('POST', '/v1/chat/completions', {
      fields: ['model', 'messages', 'stream', 'stream_options', 'metadata', 'user', 'temperature', 'n', 'tools', 'max_tokens'],
      body: true,
    }),
  ],
  ['GET /v1/models', request('GET', '/v1/models', { fields: ['model'], query: true })],
  [
    'POST /v1/chat-messages',
    request('POST', '/v1/chat-messages', {
      fields: ['query', 'inputs', 'response_mode', 'user', 'conversation_id', 'files', 'auto_generate_name'],
      body: true,
    }),
  ],
  ['POST /v1/chat-messages/:task_id/stop', withPathId('POST', '/v1/chat-messages/:id/stop', seenIds.message, { fields: ['user'], body: true })],
  ['GET /v1/conversations', request('GET', '/v1/conversations', { fields: ['user', 'last_id', 'first_id', 'limit', 'sort_by', 'pinned'], query: true })],
  ['DELETE /v1/conversations/:id', withPathId('DELETE', '/v1/conversations/:id', seenIds.conversation, { fields: ['user'], body: true, query: true })],
  ['POST /v1/conversations/:id/name', withPathId('POST', '/v1/conversations/:id/name', seenIds.conversation, { fields: ['name', 'auto_generate', 'user'], body: true })],
  ['GET /v1/messages', request('GET', '/v1/messages', { fields: ['conversation_id', 'user', 'first_id', 'limit'], query: true })],
  ['POST /v1/files/upload (multipart)', multipartRequest('/v1/files/upload')],
  ['GET /v1/parameters, /v1/meta', fc.oneof(request('GET', '/v1/parameters', { fields: ['user'], query: true }), request('GET', '/v1/meta', { fields: ['user'], query: true }))],
];

describe('fuzzing every REST route and the main tRPC calls', () => {
  const statuses = new Map<string, Map<number, number>>();

  it.each(ROUTES)(
    `%s: ${RUNS} random requests, only 2xx/4xx JSON answers`,
    async (name, arb) => {
      const seen = new Map<number, number>();
      statuses.set(name, seen);
      await fc.assert(
        fc.asyncProperty(arb, async (r) => {
          const res = await send(r);
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          assertAnswer(r, res);
        }),
        { numRuns: RUNS },
      );
      // The fuzz reached past validation: some requests succeeded and some were refused.
      expect([...seen.keys()].some((s) => s < 300), `${name}: ${JSON.stringify([...seen])}`).toBe(true);
      expect([...seen.keys()].some((s) => s >= 400), `${name}: ${JSON.stringify([...seen])}`).toBe(true);
    },
    180_000,
  );

  it('leaves the process up and healthy, with no error logged and no key in the log', async () => {
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const list = await fetch(`${server.url}/get_conversation_list?limit=5`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    expect(list.status).toBe(200);
    const log = server.output();
    const errors = log.split('\n').filter((l) => /"level":(50|60)/.test(l));
    expect(errors, errors.slice(0, 5).join('\n')).toEqual([]);
    expect(log).not.toContain(KEYS.admin);
    expect(log).not.toContain(KEYS.user);
    // Uploads only read: the inbox is as it was.
    expect(readdirSync(dirs.inbox).sort()).toEqual(inboxBefore);
    console.info('fuzz status counts:', JSON.stringify(Object.fromEntries([...statuses].map(([k, v]) => [k, Object.fromEntries(v)]))));
  });
});
