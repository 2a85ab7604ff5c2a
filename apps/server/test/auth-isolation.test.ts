/**
 * API keys and per-user isolation (issue 5): with API_KEYS set every route but health needs a
 * key (401 otherwise, REST, tRPC calls and tRPC SSE alike); a user key sees only its own
 * conversations, messages, files and streams — anything of another user's is answered exactly
 * as if it did not exist; naming another user is a 403; an admin key sees everything and may act
 * for any user.
 */
import type { StreamEvent } from '@colloquy/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorBody, type Json, type JsonResponse } from './support/http-helpers.ts';
import { createTestClient } from './support/trpc-client.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';
import { openSocket, UpgradeRefused, wsUrl } from './support/video-helpers.ts';
import { waitFor } from '@colloquy/testing';

const KEYS = {
  alice: 'alice-key-4f1c9a7e2b',
  bob: 'bob-key-83d0e6a51c77',
  carol: 'carol-key-5e0a92d4f1',
  ops: 'ops-admin-key-9b2e77',
};
const API_KEYS = `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.carol}:carol:user,${KEYS.ops}:ops:admin`;

const BOB_DOC = Array.from(
  { length: 8 },
  (_, i) => `Bob's note ${i + 1}: the plum cake recipe number ${i + 1} needs butter, plums, sugar and a slow oven.`,
).join('\n\n');

let server: TestServer;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** A REST call with a key (or explicit headers). */
function rest(
  key: string | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return requestJson(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body }),
    headers: { ...(key ? auth(key) : {}), ...headers },
  });
}

/** A tRPC query (GET) or mutation (POST) over plain HTTP, unbatched. */
function trpc(key: string | undefined, kind: 'query' | 'mutation', path: string, input: unknown, headers: Record<string, string> = {}) {
  const h = { ...(key ? auth(key) : {}), ...headers };
  return kind === 'query'
    ? requestJson(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: h })
    : requestJson(`${server.url}/trpc/${path}`, { body: input, headers: h });
}

/** The first event of a `chat.events` subscription (tRPC over SSE), or the error it fails with. */
function firstEvent(key: string, input: { messageId: string; user?: string }): Promise<StreamEvent> {
  const client = createTestClient(server.url, auth(key));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error('no event within 10 s'));
    }, 10_000);
    const sub = client.chat.events.subscribe(input, {
      onData(tracked) {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(tracked.data);
      },
      onError(err) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(err);
      },
    });
  });
}

/** The outcome of a subscription attempt as status/code, for the tables. */
async function subscribeOutcome(key: string, input: { messageId: string; user?: string }): Promise<{ status: number; code?: string }> {
  try {
    await firstEvent(key, input);
    return { status: 200 };
  } catch (err) {
    const { data, cause } = err as { data?: { httpStatus?: number; code?: string }; cause?: { code?: unknown } };
    if (data) return { status: data.httpStatus ?? 0, code: data.code };
    // Refused before tRPC ran (the auth middleware): the EventSource error carries the HTTP status.
    return { status: typeof cause?.code === 'number' ? cause.code : 0 };
  }
}

/** Bob's records, created once before the tables run. */
const bob = { conversationId: 'conv-bob-private', fileId: '', filePath: 'bob-only/recipes.md', messageId: '' };

beforeAll(async () => {
  // A slowish local agent so a turn of Bob's is still running while Alice tries to stop it.
  server = await startTestServer({ API_KEYS, LOCAL_AGENT_DELTA_DELAY_MS: '40', FLUSH_INTERVAL_MS: '100' });
  server.writeInbox(bob.filePath, BOB_DOC);
  server.writeInbox('alice.txt', 'Alice keeps her bicycle in the garden shed next to the apple tree.');

  const up = await rest(KEYS.bob, 'POST', '/upload_files', { file_paths: [bob.filePath] });
  expect(up.status, up.text).toBe(200);
  bob.fileId = (up.body as Json).response[0].id;
  const sent = await trpc(KEYS.bob, 'mutation', 'chat.converse', {
    conversationId: bob.conversationId,
    query: 'What does the plum cake need?',
    files: [bob.fileId],
  });
  expect(sent.status, sent.text).toBe(200);
  bob.messageId = (sent.body as Json).result.data.messageId;
  // Alice has data of her own, so "empty list" is not what the list tests see.
  const mine = await rest(KEYS.alice, 'POST', '/upload_files', { file_paths: ['alice.txt'] });
  expect(mine.status, mine.text).toBe(200);
  const conv = await rest(KEYS.alice, 'POST', '/converse', { query: 'Where is the bicycle?', conversation_id: 'conv-alice', files: ['alice.txt'] });
  expect(conv.status, conv.text).toBe(200);
});
afterAll(() => server?.dispose());

/** Bob's view of his records, to show nothing Alice tried changed them. */
async function bobsState() {
  const conv = await trpc(KEYS.bob, 'query', 'conversations.get', { id: bob.conversationId });
  const messages = await trpc(KEYS.bob, 'query', 'messages.list', { conversationId: bob.conversationId, limit: 100 });
  const file = await trpc(KEYS.bob, 'query', 'files.get', { id: bob.fileId });
  expect([conv.status, messages.status, file.status], conv.text + messages.text + file.text).toEqual([200, 200, 200]);
  const m = (messages.body as Json).result.data.items as Json[];
  return {
    name: (conv.body as Json).result.data.name,
    messages: m.map((x) => [x.id, x.role, x.status === 'streaming' ? 'streaming' : 'ended']),
    file: (file.body as Json).result.data.id,
  };
}

describe('without a valid key', () => {
  const NO_KEY: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a wrong key', auth('not-a-key-at-all-0000')],
    ['a valid key with one character more', auth(`${KEYS.alice}x`)],
    ['a prefix of a valid key', auth(KEYS.alice.slice(0, -1))],
    ['a valid key under another scheme', { authorization: `Basic ${KEYS.alice}` }],
    ['"Bearer" without a key', { authorization: 'Bearer' }],
    ['the key in X-API-Key instead', { 'x-api-key': KEYS.alice }],
  ];
  const ROUTES: [string, (h: Record<string, string>) => Promise<JsonResponse>][] = [
    ['REST GET /get_conversation_list', (h) => rest(undefined, 'GET', '/get_conversation_list', undefined, h)],
    ['REST DELETE /delete_conv', (h) => rest(undefined, 'DELETE', '/delete_conv', { conversation_id: bob.conversationId }, h)],
    ['REST POST /upload_files', (h) => rest(undefined, 'POST', '/upload_files', { file_paths: [bob.filePath] }, h)],
    ['REST POST /converse', (h) => rest(undefined, 'POST', '/converse', { query: 'hi' }, h)],
    ['REST POST /stop_converse', (h) => rest(undefined, 'POST', '/stop_converse', { message_id: bob.messageId }, h)],
    [
      'REST POST /files (multipart)',
      (h) =>
        requestJson(`${server.url}/files`, {
          rawBody: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n',
          headers: { 'content-type': 'multipart/form-data; boundary=x', ...h },
        }),
    ],
    ['tRPC query conversations.list', (h) => trpc(undefined, 'query', 'conversations.list', {}, h)],
    ['tRPC mutation chat.send', (h) => trpc(undefined, 'mutation', 'chat.send', { query: 'hi' }, h)],
    ['tRPC batch', (h) => requestJson(`${server.url}/trpc/agents.list,files.list?batch=1&input=${encodeURIComponent('{}')}`, { headers: h })],
    [
      'tRPC SSE subscription chat.events',
      (h) =>
        requestJson(`${server.url}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ messageId: bob.messageId }))}`, {
          headers: { accept: 'text/event-stream', ...h },
        }),
    ],
    ['an unknown route', (h) => rest(undefined, 'GET', '/no-such-route', undefined, h)],
  ];
  const rows = NO_KEY.flatMap(([who, headers]) => ROUTES.map(([route, call]) => [`${route} with ${who}`, headers, call] as const));

  it.each(rows)('%s → 401 未授权 with WWW-Authenticate: Bearer', async (_name, headers, call) => {
    const res = await call(headers);
    expectErrorBody(res, 401, '未授权');
    expect(res.body).toEqual({ message: '未授权', error: 'missing or invalid API key' });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="colloquy"/);
    // The presented key is never echoed.
    expect(res.text).not.toContain(KEYS.alice.slice(0, 12));
  });

  it('marks a wrong key as invalid_token, a missing one not', async () => {
    expect((await rest(undefined, 'GET', '/get_conversation_list')).headers.get('www-authenticate')).toBe('Bearer realm="colloquy"');
    expect((await rest('wrong-key-1234567890', 'GET', '/get_conversation_list')).headers.get('www-authenticate')).toBe(
      'Bearer realm="colloquy", error="invalid_token"',
    );
  });

  it('a tRPC subscription through the client fails with the 401, receiving nothing', async () => {
    expect(await subscribeOutcome('wrong-key-1234567890', { messageId: bob.messageId })).toEqual({ status: 401 });
  });

  it.each([
    ['GET /healthz', '/healthz'],
    ['GET /readyz', '/readyz'],
    ['the web app', '/'],
    ['a web app page', '/c/some-conversation'],
    ['the live page', '/live/some-client'],
  ])('%s needs no key', async (_name, path) => {
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it('changed nothing of Bob\'s', async () => {
    const state = await bobsState();
    expect(state.file).toBe(bob.fileId);
    expect(state.messages).toHaveLength(2);
  });
});

describe("a user key against another user's records", () => {
  const MISSING = {
    conversationId: 'conv-that-never-existed',
    messageId: '00000000-0000-4000-8000-000000000000',
    fileId: '11111111-1111-4111-8111-111111111111',
    filePath: 'never-uploaded.md',
  };
  type Target = typeof MISSING;
  /** Each row runs against Bob's record and against one that does not exist: same answer. */
  const ROWS: [string, (t: Target) => Promise<JsonResponse>][] = [
    // Conversations
    ['REST DELETE /delete_conv (body)', (t) => rest(KEYS.alice, 'DELETE', '/delete_conv', { conversation_id: t.conversationId })],
    ['REST DELETE /delete_conv (query)', (t) => rest(KEYS.alice, 'DELETE', `/delete_conv?conversation_id=${t.conversationId}`)],
    ['REST GET /get_conversation_list?last_id=', (t) => rest(KEYS.alice, 'GET', `/get_conversation_list?last_id=${t.conversationId}`)],
    ['tRPC conversations.get', (t) => trpc(KEYS.alice, 'query', 'conversations.get', { id: t.conversationId })],
    ['tRPC conversations.rename', (t) => trpc(KEYS.alice, 'mutation', 'conversations.rename', { id: t.conversationId, name: 'pwned' })],
    ['tRPC conversations.delete', (t) => trpc(KEYS.alice, 'mutation', 'conversations.delete', { id: t.conversationId })],
    ['tRPC conversations.list cursor by lastId', (t) => trpc(KEYS.alice, 'query', 'conversations.list', { lastId: t.conversationId })],
    ['tRPC messages.list', (t) => trpc(KEYS.alice, 'query', 'messages.list', { conversationId: t.conversationId })],
    // Messages and their streams
    ['REST POST /stop_converse', (t) => rest(KEYS.alice, 'POST', '/stop_converse', { message_id: t.messageId })],
    ['tRPC chat.stop', (t) => trpc(KEYS.alice, 'mutation', 'chat.stop', { messageId: t.messageId })],
    // Files by id
    ['tRPC files.get', (t) => trpc(KEYS.alice, 'query', 'files.get', { id: t.fileId })],
    ['tRPC files.delete', (t) => trpc(KEYS.alice, 'mutation', 'files.delete', { id: t.fileId })],
    // Attaching a file to a turn, by id and by the path it was uploaded under
    ['REST POST /converse attaching a file by id', (t) => rest(KEYS.alice, 'POST', '/converse', { query: 'read it', files: [t.fileId] })],
    ['REST POST /converse attaching a file by path', (t) => rest(KEYS.alice, 'POST', '/converse', { query: 'read it', files: [t.filePath] })],
    [
      'REST POST /converse (streaming) attaching a file by id',
      (t) => rest(KEYS.alice, 'POST', '/converse', { query: 'read it', files: [t.fileId], response_mode: 'streaming' }),
    ],
    ['REST POST /converse attaching a Dify-style file object', (t) => rest(KEYS.alice, 'POST', '/converse', { query: 'read it', files: [{ upload_file_id: t.fileId }] })],
    ['tRPC chat.send attaching a file by id', (t) => trpc(KEYS.alice, 'mutation', 'chat.send', { query: 'read it', files: [t.fileId] })],
    ['tRPC chat.converse attaching a file by path', (t) => trpc(KEYS.alice, 'mutation', 'chat.converse', { query: 'read it', files: [t.filePath] })],
  ];

  const bobs = (): Target => bob;
  /** The answer with the target's ids replaced, so Bob's and the missing record's can be compared. */
  const normalized = (res: JsonResponse, t: Target) => ({
    status: res.status,
    body: JSON.parse(
      [t.conversationId, t.messageId, t.fileId, t.filePath].reduce((text, id) => text.split(id).join('<id>'), res.text),
    ) as unknown,
  });

  it.each(ROWS)("%s: Bob's record is answered exactly like a missing one (404, or 400 for a file reference)", async (_name, call) => {
    const before = await bobsState();
    const theirs = await call(bobs());
    const missing = await call(MISSING);
    expect(theirs.status, theirs.text).toBeGreaterThanOrEqual(400);
    expect([400, 404], theirs.text).toContain(theirs.status);
    expect(normalized(theirs, bobs())).toEqual(normalized(missing, MISSING));
    // Everything except a file reference in a turn's input (the contract's 400 naming the missing file) is a 404.
    if (!/attaching|last_id|lastId/.test(_name)) expect(theirs.status).toBe(404);
    expect(await bobsState()).toEqual(before);
  });

  it("cannot re-attach to Bob's stream (tRPC SSE), nor to a missing one: NOT_FOUND both", async () => {
    expect(await subscribeOutcome(KEYS.alice, { messageId: bob.messageId })).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await subscribeOutcome(KEYS.alice, { messageId: MISSING.messageId })).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it("cannot stop or re-attach to a turn of Bob's while it runs", async () => {
    const sent = await trpc(KEYS.bob, 'mutation', 'chat.send', { conversationId: bob.conversationId, query: 'And the oven?', files: [bob.fileId] });
    expect(sent.status, sent.text).toBe(200);
    const running = (sent.body as Json).result.data.messageId as string;
    expect((await rest(KEYS.alice, 'POST', '/stop_converse', { message_id: running })).status).toBe(404);
    expect((await trpc(KEYS.alice, 'mutation', 'chat.stop', { messageId: running })).status).toBe(404);
    expect(await subscribeOutcome(KEYS.alice, { messageId: running })).toEqual({ status: 404, code: 'NOT_FOUND' });
    // Still running for Bob, who can watch and stop it.
    const listed = await trpc(KEYS.bob, 'query', 'messages.list', { conversationId: bob.conversationId, limit: 100 });
    expect((listed.body as Json).result.data.items.find((m: Json) => m.id === running)?.status).toBe('streaming');
    expect((await firstEvent(KEYS.bob, { messageId: running })).message_id).toBe(running);
    const stopped = await trpc(KEYS.bob, 'mutation', 'chat.stop', { messageId: running });
    expect(stopped.status, stopped.text).toBe(200);
    expect((stopped.body as Json).result.data.status).toBe('stopped');
  });

  it("never lists Bob's conversations or files", async () => {
    const restList = await rest(KEYS.alice, 'GET', '/get_conversation_list?limit=100');
    expect(restList.status).toBe(200);
    expect((restList.body as Json).data.map((c: Json) => c.id)).toEqual(['conv-alice']);
    const convs = await trpc(KEYS.alice, 'query', 'conversations.list', { limit: 100 });
    expect((convs.body as Json).result.data.items.map((c: Json) => c.userId)).toEqual(['alice']);
    const files = await trpc(KEYS.alice, 'query', 'files.list', { limit: 100 });
    const owners = (files.body as Json).result.data.items.map((f: Json) => f.userId);
    expect(owners.length).toBeGreaterThan(0);
    expect(new Set(owners)).toEqual(new Set(['alice']));
  });
});

describe('a user key naming another user → 403', () => {
  const ROWS: [string, () => Promise<JsonResponse>][] = [
    ['REST list ?user=bob', () => rest(KEYS.alice, 'GET', '/get_conversation_list?user=bob')],
    ['REST list ?user_id=bob', () => rest(KEYS.alice, 'GET', '/get_conversation_list?user_id=bob')],
    ['REST converse {user: bob}', () => rest(KEYS.alice, 'POST', '/converse', { query: 'hi', user: 'bob' })],
    ['REST delete {user: bob}', () => rest(KEYS.alice, 'DELETE', '/delete_conv', { conversation_id: 'conv-alice', user: 'bob' })],
    ['REST upload {user: bob}', () => rest(KEYS.alice, 'POST', '/upload_files', { file_paths: ['alice.txt'], user: 'bob' })],
    ['REST stop {user: bob}', () => rest(KEYS.alice, 'POST', '/stop_converse', { message_id: bob.messageId, user: 'bob' })],
    [
      'REST POST /files with a user=bob field',
      () =>
        requestJson(`${server.url}/files`, {
          rawBody:
            '--x\r\nContent-Disposition: form-data; name="user"\r\n\r\nbob\r\n' +
            '--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n',
          headers: { 'content-type': 'multipart/form-data; boundary=x', ...auth(KEYS.alice) },
        }),
    ],
    ['tRPC conversations.list {user: bob}', () => trpc(KEYS.alice, 'query', 'conversations.list', { user: 'bob' })],
    ['tRPC files.list {user: bob}', () => trpc(KEYS.alice, 'query', 'files.list', { user: 'bob' })],
    ['tRPC chat.send {user: bob}', () => trpc(KEYS.alice, 'mutation', 'chat.send', { query: 'hi', user: 'bob' })],
    ['tRPC with X-Colloquy-User: bob', () => trpc(KEYS.alice, 'query', 'conversations.list', {}, { 'x-colloquy-user': 'bob' })],
    ['REST with X-Colloquy-User: bob', () => rest(KEYS.alice, 'GET', '/get_conversation_list', undefined, { 'x-colloquy-user': 'bob' })],
  ];
  it.each(ROWS)('%s', async (_name, call) => {
    const res = await call();
    expect(res.status, res.text).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    if (_name.startsWith('tRPC')) expect((res.body as Json).error.data.code).toBe('FORBIDDEN');
    else expectErrorBody(res, 403);
  });

  it('naming its own user is fine', async () => {
    expect((await rest(KEYS.alice, 'GET', '/get_conversation_list?user=alice')).status).toBe(200);
    expect((await trpc(KEYS.alice, 'query', 'conversations.list', {}, { 'x-colloquy-user': 'alice' })).status).toBe(200);
  });
});

describe('an admin key', () => {
  it('lists every user\'s conversations, or one user\'s', async () => {
    const all = await rest(KEYS.ops, 'GET', '/get_conversation_list?limit=100');
    expect(all.status).toBe(200);
    const users = new Set((all.body as Json).data.map((c: Json) => c.user));
    expect(users.has('alice') && users.has('bob')).toBe(true);
    const bobs = await rest(KEYS.ops, 'GET', '/get_conversation_list?user=bob&limit=100');
    expect((bobs.body as Json).data.map((c: Json) => c.user).every((u: string) => u === 'bob')).toBe(true);
    expect((bobs.body as Json).data.map((c: Json) => c.id)).toContain(bob.conversationId);
    const files = await trpc(KEYS.ops, 'query', 'files.list', { limit: 100 });
    expect(new Set((files.body as Json).result.data.items.map((f: Json) => f.userId))).toEqual(new Set(['alice', 'bob']));
  });

  it("reads a user's conversation, messages, file and stream", async () => {
    expect((await trpc(KEYS.ops, 'query', 'conversations.get', { id: bob.conversationId })).status).toBe(200);
    const msgs = await trpc(KEYS.ops, 'query', 'messages.list', { conversationId: bob.conversationId, user: 'bob' });
    expect((msgs.body as Json).result.data.items.length).toBeGreaterThanOrEqual(2);
    expect((await trpc(KEYS.ops, 'query', 'files.get', { id: bob.fileId })).status).toBe(200);
    const event = await firstEvent(KEYS.ops, { messageId: bob.messageId });
    // The stream is retained for a while after it ends: a re-attach replays it from the start.
    expect(event).toMatchObject({ id: '1', message_id: bob.messageId });
  });

  it("acts for a user: the turn and its files are the user's", async () => {
    const res = await rest(KEYS.ops, 'POST', '/converse', {
      user: 'bob',
      query: 'Which fruit goes in the cake?',
      files: [bob.filePath],
      conversation_id: 'conv-for-bob',
    });
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).answer).toMatch(/plum/i);
    const conv = await trpc(KEYS.bob, 'query', 'conversations.get', { id: 'conv-for-bob' });
    expect((conv.body as Json).result.data.userId).toBe('bob');
    // Acting as Bob, the admin is confined to Bob's files: Alice's are not Bob's to attach.
    const alices = await rest(KEYS.ops, 'POST', '/converse', { user: 'bob', query: 'hi', files: ['alice.txt'] });
    expect(alices.status).toBe(400);
    // Renames and stops for the user too.
    expect((await trpc(KEYS.ops, 'mutation', 'conversations.rename', { id: 'conv-for-bob', name: 'Cake', user: 'bob' })).status).toBe(200);
    const sent = await trpc(KEYS.ops, 'mutation', 'chat.send', { user: 'bob', conversationId: 'conv-for-bob', query: 'More?' });
    const stopped = await rest(KEYS.ops, 'POST', '/stop_converse', { message_id: (sent.body as Json).result.data.messageId, user: 'bob' });
    expect(stopped.status, stopped.text).toBe(200);
    // Acting for Alice, Bob's conversation is out of scope.
    expect((await trpc(KEYS.ops, 'query', 'conversations.get', { id: bob.conversationId, user: 'alice' })).status).toBe(404);
  });

  it('without a user, creates records of its own, which a user key cannot see', async () => {
    const res = await rest(KEYS.ops, 'POST', '/converse', { query: 'status report', conversation_id: 'conv-ops' });
    expect(res.status, res.text).toBe(200);
    const conv = await trpc(KEYS.ops, 'query', 'conversations.get', { id: 'conv-ops' });
    expect((conv.body as Json).result.data.userId).toBe('ops');
    expect((await trpc(KEYS.alice, 'query', 'conversations.get', { id: 'conv-ops' })).status).toBe(404);
  });

  it('deletes a user\'s conversation', async () => {
    const del = await rest(KEYS.ops, 'DELETE', '/delete_conv', { conversation_id: 'conv-for-bob' });
    expect(del.status, del.text).toBe(200);
    expect((await trpc(KEYS.bob, 'query', 'conversations.get', { id: 'conv-for-bob' })).status).toBe(404);
  });
});

describe('client-chosen ids are per user: another user\'s id is answered like an unused one (issue 11)', () => {
  /** A turn under `conversationId` by Carol, over each transport; the answer with ids made comparable. */
  const TURNS: [string, (conversationId: string) => Promise<JsonResponse>][] = [
    ['REST POST /converse', (id) => rest(KEYS.carol, 'POST', '/converse', { query: 'what did we talk about?', conversation_id: id })],
    [
      'REST POST /converse (streaming)',
      (id) => rest(KEYS.carol, 'POST', '/converse', { query: 'what did we talk about?', conversation_id: id, response_mode: 'streaming' }),
    ],
    ['tRPC chat.converse', (id) => trpc(KEYS.carol, 'mutation', 'chat.converse', { query: 'what did we talk about?', conversationId: id })],
    ['tRPC chat.send', (id) => trpc(KEYS.carol, 'mutation', 'chat.send', { query: 'what did we talk about?', conversationId: id })],
  ];
  /** Status and body with the volatile parts (ids, times) replaced. */
  const comparable = (res: JsonResponse, conversationId: string) => ({
    status: res.status,
    body: res.text
      .split(conversationId)
      .join('<conversation>')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replace(/"created_?[aA]t":("[^"]*"|\d+)/g, '"created_at":0'),
  });

  it.each(TURNS)("%s under Bob's conversation id starts a conversation of Carol's own, exactly as under an unused id", async (name, turn) => {
    const before = await bobsState();
    const unusedId = `carol-unused-${name.replace(/\W+/g, '-')}`;
    const foreign = await turn(bob.conversationId);
    const unused = await turn(unusedId);
    expect(foreign.status, foreign.text).toBe(200);
    expect(comparable(foreign, bob.conversationId)).toEqual(comparable(unused, unusedId));
    expect(foreign.text).not.toContain('plum');
    expect(await bobsState()).toEqual(before);
  });

  it("Carol's conversation of that id holds only her messages; Bob's holds only his, and he goes on with it", async () => {
    const carols = await trpc(KEYS.carol, 'query', 'messages.list', { conversationId: bob.conversationId, limit: 100 });
    const mine = (carols.body as Json).result.data.items as Json[];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((m) => m.role === 'user').every((m) => m.content === 'what did we talk about?')).toBe(true);
    expect(JSON.stringify(mine)).not.toContain('plum');
    const list = await rest(KEYS.carol, 'GET', '/get_conversation_list?limit=100');
    expect((list.body as Json).data.map((c: Json) => [c.id, c.user])).toContainEqual([bob.conversationId, 'carol']);

    const bobs = await rest(KEYS.bob, 'POST', '/converse', { query: 'What does the plum cake need?', conversation_id: bob.conversationId });
    expect(bobs.status, bobs.text).toBe(200);
    expect((bobs.body as Json).answer).toMatch(/plum/i);
    const history = await trpc(KEYS.bob, 'query', 'messages.list', { conversationId: bob.conversationId, limit: 100 });
    expect(JSON.stringify((history.body as Json).result.data.items)).not.toContain('what did we talk about?');
  });

  it('an admin naming no user is told to name one when several users have the id (409); naming one works', async () => {
    const ambiguous = await trpc(KEYS.ops, 'query', 'conversations.get', { id: bob.conversationId });
    expect(ambiguous.status, ambiguous.text).toBe(409);
    expect((ambiguous.body as Json).error.message).toMatch(/used by several users; name the user/);
    expectErrorBody(await rest(KEYS.ops, 'DELETE', '/delete_conv', { conversation_id: bob.conversationId }), 409, '对话删除失败');
    const bobs = await trpc(KEYS.ops, 'query', 'conversations.get', { id: bob.conversationId, user: 'bob' });
    expect((bobs.body as Json).result.data.userId).toBe('bob');
    const carols = await trpc(KEYS.ops, 'query', 'conversations.get', { id: bob.conversationId, user: 'carol' });
    expect((carols.body as Json).result.data.userId).toBe('carol');
    // Both are still there: the refusal deleted nothing.
    const all = await rest(KEYS.ops, 'GET', '/get_conversation_list?limit=100');
    expect((all.body as Json).data.filter((c: Json) => c.id === bob.conversationId).map((c: Json) => c.user).sort()).toEqual(['bob', 'carol']);
  });

  it("a presence client id another user holds is a client of one's own; watching another user's video client is a 404, as for an unused id", async () => {
    const bobs = createTestClient(server.url, auth(KEYS.bob));
    const carols = createTestClient(server.url, auth(KEYS.carol));
    const bobSub = bobs.clients.connect.subscribe({ clientId: 'shared-device', name: 'bob-device' }, { onData: () => undefined });
    try {
      await waitFor(async () => ((await trpc(KEYS.bob, 'query', 'clients.list', {})).body as Json).result.data.count === 1, 5000);
      // Carol takes the same id: her own client (no 409 telling her the id is in use).
      const carolSub = carols.clients.connect.subscribe({ clientId: 'shared-device', name: 'carol-device' }, { onData: () => undefined });
      try {
        await waitFor(async () => ((await trpc(KEYS.carol, 'query', 'clients.list', {})).body as Json).result.data.count === 1, 5000);
        const hers = ((await trpc(KEYS.carol, 'query', 'clients.list', {})).body as Json).result.data.clients;
        expect(hers.map((c: Json) => [c.id, c.userId, c.name])).toEqual([['shared-device', 'carol', 'carol-device']]);
        const his = ((await trpc(KEYS.bob, 'query', 'clients.list', {})).body as Json).result.data.clients;
        expect(his.map((c: Json) => [c.id, c.userId, c.name])).toEqual([['shared-device', 'bob', 'bob-device']]);
      } finally {
        carolSub.unsubscribe();
      }
      // Alice has no client of that id: watching it is the 404 of an unused id.
      const watch = (clientId: string) =>
        openSocket(wsUrl(server.url, { role: 'watch', clientId }), auth(KEYS.alice)).then(
          () => 101,
          (err: unknown) => (err instanceof UpgradeRefused ? [err.status, err.body] : err),
        );
      expect(await watch('shared-device')).toEqual(await watch('never-used-device'));
      expect(await watch('shared-device')).toEqual([404, { message: '未找到', error: 'no such client' }]);
    } finally {
      bobSub.unsubscribe();
    }
  });
});

