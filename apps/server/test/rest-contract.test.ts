/**
 * The REST compatibility contract (DESIGN.md "REST compatibility contract", spec/flask-api-doc.zh.md):
 * every route's success shape and every error row, with the exact Chinese messages and statuses.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestJson } from './support/test-server.ts';
import {
  answerOf,
  converse,
  converseStreaming,
  dataDirOf,
  deleteConversation,
  expectErrorBody,
  listConversations,
  sleep,
  storedFiles,
  storedMessages,
  trpcGet,
  uploadPaths,
  useServer,
  type Json,
} from './support/http-helpers.ts';

const LIST_FAILED = '获取对话列表失败';
const DELETE_OK = '对话删除成功';
const DELETE_FAILED = '对话删除失败';
const UPLOAD_OK = '文件上传成功';
const BAD_PATHS = '请提供有效的文件路径列表';
const NO_QUERY = '请提供查询内容';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A blocking turn that must succeed; returns the body. */
async function turn(url: string, body: Record<string, unknown>): Promise<Json> {
  const res = await converse(url, { response_mode: 'blocking', ...body });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.body;
}

async function listIds(url: string, params: Record<string, string | number | undefined> = {}): Promise<string[]> {
  const res = await listConversations(url, params);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return (res.body as Json).data.map((c: Json) => c.id);
}

describe('GET /get_conversation_list', () => {
  const server = useServer();

  it('answers an empty Dify-shaped page on a fresh server', async () => {
    const res = await listConversations(server().url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ limit: 20, has_more: false, data: [] });
  });

  it('lists conversations in the Dify shape {id,name,inputs,status,introduction,created_at,updated_at}', async () => {
    const { url } = server();
    const before = nowSeconds();
    await turn(url, { user: 'shape-user', conversation_id: 'shape-1', query: 'What is the   capital of France?' });
    const res = await listConversations(url, { user: 'shape-user' });
    expect(res.status).toBe(200);
    const page = res.body as Json;
    expect(page).toMatchObject({ limit: 20, has_more: false });
    expect(page.data).toHaveLength(1);
    const c = page.data[0];
    expect(c).toMatchObject({
      id: 'shape-1',
      name: 'What is the capital of France?',
      inputs: {},
      status: 'normal',
      introduction: '',
    });
    for (const key of ['created_at', 'updated_at'] as const) {
      expect(Number.isInteger(c[key]), key).toBe(true);
      expect(c[key]).toBeGreaterThanOrEqual(before - 1);
      expect(c[key]).toBeLessThanOrEqual(nowSeconds() + 1);
    }
  });

  it('filters by `user` (alias `user_id`); without a user it lists every user', async () => {
    const { url } = server();
    await turn(url, { user: 'filter-ann', conversation_id: 'filter-ann-1', query: 'hello from ann' });
    await turn(url, { user_id: 'filter-bob', conversation_id: 'filter-bob-1', query: 'hello from bob' });
    await turn(url, { user: 'filter-bob', conversation_id: 'filter-bob-2', query: 'hello again from bob' });

    expect(await listIds(url, { user: 'filter-ann' })).toEqual(['filter-ann-1']);
    expect((await listIds(url, { user_id: 'filter-bob' })).sort()).toEqual(['filter-bob-1', 'filter-bob-2']);
    expect((await listIds(url, { user: 'filter-bob' })).sort()).toEqual(['filter-bob-1', 'filter-bob-2']);
    expect(await listIds(url, { user: 'nobody-at-all' })).toEqual([]);

    const all = await listIds(url, { limit: 100 });
    expect(all).toEqual(expect.arrayContaining(['filter-ann-1', 'filter-bob-1', 'filter-bob-2']));
  });

  it('filters by `manager_id`', async () => {
    const { url } = server();
    await turn(url, { user: 'mgr-user', conversation_id: 'mgr-a', manager_id: 'manager-A', query: 'first' });
    await turn(url, { user: 'mgr-user', conversation_id: 'mgr-b', manager_id: 'manager-B', query: 'second' });
    await turn(url, { user: 'mgr-other', conversation_id: 'mgr-c', manager_id: 'manager-A', query: 'third' });

    expect((await listIds(url, { manager_id: 'manager-A' })).sort()).toEqual(['mgr-a', 'mgr-c']);
    expect(await listIds(url, { manager_id: 'manager-B' })).toEqual(['mgr-b']);
    expect(await listIds(url, { manager_id: 'manager-A', user: 'mgr-user' })).toEqual(['mgr-a']);
    const res = await listConversations(url, { manager_id: 'manager-A' });
    expect((res.body as Json).data.every((c: Json) => c.manager_id === 'manager-A')).toBe(true);
  });

  it('pages with `limit` + `last_id`, newest first, with has_more', async () => {
    const { url } = server();
    const created: string[] = [];
    for (let i = 1; i <= 5; i++) {
      await turn(url, { user: 'pager', conversation_id: `page-${i}`, query: `question number ${i}` });
      created.push(`page-${i}`);
      await sleep(3); // distinct updated_at, so "newest first" is well defined
    }
    const newestFirst = [...created].reverse();

    const seen: string[] = [];
    const hasMore: boolean[] = [];
    let lastId: string | undefined;
    for (let pageNo = 0; pageNo < 5; pageNo++) {
      const res = await listConversations(url, { user: 'pager', limit: 2, last_id: lastId });
      expect(res.status, res.text).toBe(200);
      const page = res.body as Json;
      expect(page.limit).toBe(2);
      seen.push(...page.data.map((c: Json) => c.id));
      hasMore.push(page.has_more);
      if (!page.has_more) break;
      lastId = page.data.at(-1).id;
    }
    expect(seen).toEqual(newestFirst);
    expect(hasMore).toEqual([true, true, false]);

    // A limit that ends exactly at the last item has no more.
    const exact = await listConversations(url, { user: 'pager', limit: 5 });
    expect((exact.body as Json).has_more).toBe(false);
    expect((exact.body as Json).data).toHaveLength(5);
  });

  it.each([
    ['not a number', { limit: 'abc' }],
    ['zero', { limit: '0' }],
    ['negative', { limit: '-3' }],
    ['fractional', { limit: '1.5' }],
    ['above the maximum', { limit: '100000' }],
    ['an unknown last_id', { last_id: 'no-such-conversation' }],
  ])('refuses a bad page request (%s) with 4xx {"message":"获取对话列表失败","error"}', async (_name, params) => {
    const res = await listConversations(server().url, params);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectErrorBody(res, res.status, LIST_FAILED);
  });
});

describe('DELETE /delete_conv', () => {
  const server = useServer();

  it('deletes by conversation_id in the JSON body: 200 {"message":"对话删除成功"}, gone from the list', async () => {
    const { url } = server();
    await turn(url, { user: 'del-user', conversation_id: 'del-body', query: 'to be deleted' });
    expect(await listIds(url, { user: 'del-user' })).toContain('del-body');

    const res = await deleteConversation(url, { conversation_id: 'del-body' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ message: DELETE_OK });

    expect(await listIds(url, { user: 'del-user' })).not.toContain('del-body');
    expect(await listIds(url, { limit: 100 })).not.toContain('del-body');
    // Its messages went with it.
    expect((await trpcGet(url, 'messages.list', { conversationId: 'del-body' })).status).toBe(404);
  });

  it('deletes by conversation_id in the query string', async () => {
    const { url } = server();
    await turn(url, { user: 'del-user', conversation_id: 'del-query', query: 'to be deleted too' });
    const res = await deleteConversation(url, undefined, { conversation_id: 'del-query' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: DELETE_OK });
    expect(await listIds(url, { limit: 100 })).not.toContain('del-query');
  });

  it('accepts the owner naming themself (user / user_id) when deleting', async () => {
    const { url } = server();
    await turn(url, { user: 'del-owner', conversation_id: 'del-own-1', query: 'mine' });
    const res = await deleteConversation(url, { conversation_id: 'del-own-1', user_id: 'del-owner' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: DELETE_OK });
  });

  it.each([
    ['no body at all', undefined, {}],
    ['an empty JSON object', {}, {}],
    ['an empty string id', { conversation_id: '' }, {}],
    ['an empty query-string id', undefined, { conversation_id: '' }],
  ])('answers 400 {"message":"对话删除失败","error"} when the id is missing (%s)', async (_name, body, query) => {
    const res = await deleteConversation(server().url, body, query);
    expectErrorBody(res, 400, DELETE_FAILED);
  });

  it('answers 404 {"message":"对话删除失败","error"} for an unknown id, in the body or the query', async () => {
    const { url } = server();
    expectErrorBody(await deleteConversation(url, { conversation_id: 'never-existed' }), 404, DELETE_FAILED);
    expectErrorBody(await deleteConversation(url, undefined, { conversation_id: 'never-existed' }), 404, DELETE_FAILED);
  });

  it('answers 404 when deleting twice', async () => {
    const { url } = server();
    await turn(url, { user: 'del-user', conversation_id: 'del-twice', query: 'once' });
    expect((await deleteConversation(url, { conversation_id: 'del-twice' })).status).toBe(200);
    expectErrorBody(await deleteConversation(url, { conversation_id: 'del-twice' }), 404, DELETE_FAILED);
  });

  it("answers 404 for another user's conversation and does not delete it", async () => {
    const { url } = server();
    await turn(url, { user: 'del-alice', conversation_id: 'del-alices', query: 'alice only' });
    const before = await storedMessages(url, 'del-alices');

    expectErrorBody(await deleteConversation(url, { conversation_id: 'del-alices', user: 'del-mallory' }), 404, DELETE_FAILED);
    expectErrorBody(
      await deleteConversation(url, undefined, { conversation_id: 'del-alices', user_id: 'del-mallory' }),
      404,
      DELETE_FAILED,
    );

    expect(await listIds(url, { user: 'del-alice' })).toEqual(['del-alices']);
    expect(await storedMessages(url, 'del-alices')).toEqual(before);
  });
});

describe('POST /upload_files', () => {
  const server = useServer();

  it('stores the files: 200 {"message":"文件上传成功","response":[records in request order]}', async () => {
    const s = server();
    const notes = 'Meeting notes: the launch moves to Friday.';
    const data = '{"answer": 42}';
    s.writeInbox('notes.txt', notes);
    s.writeInbox('sub/data.json', data);

    const res = await uploadPaths(s.url, ['notes.txt', 'sub/data.json']);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.body as Json;
    expect(Object.keys(body).sort()).toEqual(['message', 'response']);
    expect(body.message).toBe(UPLOAD_OK);
    expect(body.response).toHaveLength(2);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(body.response[0]).toMatchObject({
      name: 'notes.txt',
      size: Buffer.byteLength(notes),
      sha256: sha(notes),
      path: 'notes.txt',
      extension: 'txt',
    });
    expect(body.response[1]).toMatchObject({ name: 'data.json', size: Buffer.byteLength(data), sha256: sha(data), path: 'sub/data.json' });
    for (const f of body.response) {
      expect(typeof f.id).toBe('string');
      expect(f.id.length).toBeGreaterThan(0);
      expect(typeof f.mime_type).toBe('string');
      expect(Number.isInteger(f.created_at)).toBe(true);
    }
  });

  it.each([
    ['file_paths missing', {}],
    ['file_paths null', { file_paths: null }],
    ['file_paths an empty array', { file_paths: [] }],
    ['file_paths a string', { file_paths: 'notes.txt' }],
    ['file_paths an object', { file_paths: { 0: 'notes.txt' } }],
    ['file_paths a number', { file_paths: 7 }],
    ['a number in file_paths', { file_paths: [7] }],
    ['an empty string in file_paths', { file_paths: [''] }],
    ['null in file_paths', { file_paths: [null] }],
    ['a nested array in file_paths', { file_paths: [['notes.txt']] }],
    ['a path that does not exist', { file_paths: ['no-such-file.txt'] }],
    ['a wrong-typed user', { file_paths: ['notes.txt'], user: 123 }],
    ['a whitespace-only user', { file_paths: ['notes.txt'], user: '   ' }],
  ])('answers 400 {"message":"请提供有效的文件路径列表","error"} for %s', async (_name, body) => {
    const res = await requestJson(`${server().url}/upload_files`, { body });
    expectErrorBody(res, 400, BAD_PATHS);
  });

  it('names the refused path in `error`', async () => {
    const res = await uploadPaths(server().url, ['missing-report.txt']);
    expectErrorBody(res, 400, BAD_PATHS);
    expect((res.body as Json).error).toContain('missing-report.txt');
  });
});

describe('POST /upload_files when storing fails', () => {
  const server = useServer();

  it('answers 500 {"message":"文件上传失败","error"} without internals, and stores no record', async () => {
    const s = server();
    // A regular file where the blob directory should be: every blob write fails.
    writeFileSync(join(dataDirOf(s), 'blobs'), 'not a directory');
    s.writeInbox('doomed.txt', 'This content cannot be stored.');
    const res = await uploadPaths(s.url, ['doomed.txt']);
    expectErrorBody(res, 500, '文件上传失败');
    expect(res.text).not.toContain(s.dir);
    expect(await storedFiles(s.url)).toEqual([]);
  });
});

describe('POST /converse (blocking default)', () => {
  const server = useServer();

  it('answers the Dify blocking shape {event, message_id, conversation_id, answer, metadata:{usage, retriever_resources}, created_at}', async () => {
    const s = server();
    s.writeInbox('tea.txt', 'Green tea is brewed at about 80 degrees Celsius for two minutes.');
    expect((await uploadPaths(s.url, ['tea.txt'])).status).toBe(200);
    const before = nowSeconds();
    const res = await converse(s.url, { query: 'At what temperature is green tea brewed?', files: ['tea.txt'], user: 'shape' });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.body as Json;
    expect(body.event).toBe('message');
    expect(typeof body.message_id).toBe('string');
    expect(typeof body.conversation_id).toBe('string');
    expect(typeof body.answer).toBe('string');
    expect(body.answer).toContain('80 degrees Celsius');
    expect(body.metadata.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
    });
    expect(body.metadata.usage.total_tokens).toBe(body.metadata.usage.prompt_tokens + body.metadata.usage.completion_tokens);
    expect(Array.isArray(body.metadata.retriever_resources)).toBe(true);
    expect(body.metadata.retriever_resources[0]).toMatchObject({ document_name: 'tea.txt', position: 1 });
    expect(Number.isInteger(body.created_at)).toBe(true);
    expect(body.created_at).toBeGreaterThanOrEqual(before - 1);
    expect(body.created_at).toBeLessThanOrEqual(nowSeconds() + 1);

    // The answer is what was stored.
    const stored = await storedMessages(s.url, body.conversation_id);
    expect(stored.map((m: Json) => m.role)).toEqual(['user', 'assistant']);
    expect(stored[1]).toMatchObject({ id: body.message_id, content: body.answer, status: 'complete' });
  });

  it.each([
    ['no query', {}],
    ['an empty query', { query: '' }],
    ['a whitespace-only query', { query: '  \n\t ' }],
    ['a numeric query', { query: 42 }],
    ['a null query', { query: null }],
    ['an array query', { query: ['hello'] }],
    ['an object query', { query: { text: 'hello' } }],
  ])('answers 400 {"message":"请提供查询内容"} for %s, creating nothing', async (_name, body) => {
    const { url } = server();
    const res = await converse(url, { user: 'no-query-user', ...body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((res.body as Json).message).toBe(NO_QUERY);
    expect(await listIds(url, { user: 'no-query-user' })).toEqual([]);
  });

  it('answers 400 naming an unknown file, creating nothing', async () => {
    const { url } = server();
    const res = await converse(url, { user: 'unknown-file-user', query: 'hi', files: ['ghost-file.txt'] });
    expectErrorBody(res, 400);
    expect((res.body as Json).error).toContain('ghost-file.txt');
    expect(await listIds(url, { user: 'unknown-file-user' })).toEqual([]);
  });

  it("gives another user's conversation_id a conversation of the caller's own, leaving the other untouched", async () => {
    const { url } = server();
    await turn(url, { user: 'conv-alice', conversation_id: 'alice-private', query: 'secret plans' });
    const before = await storedMessages(url, 'alice-private', 'conv-alice');

    // Ids are per user: Eve's alice-private is hers, empty of Alice's words (no 404 that would
    // tell her Alice has one, and no claim on an id Alice might use later).
    const eve = await converse(url, { user: 'conv-eve', conversation_id: 'alice-private', query: 'let me in' });
    expect(eve.status).toBe(200);
    expect((eve.body as Json).conversation_id).toBe('alice-private');
    expect(eve.text).not.toContain('secret plans');
    const streaming = await converse(url, { user_id: 'conv-eve', conversation_id: 'alice-private', query: 'again', response_mode: 'streaming' });
    expect(streaming.status).toBe(200);

    expect(await storedMessages(url, 'alice-private', 'conv-alice')).toEqual(before);
    expect((await storedMessages(url, 'alice-private', 'conv-eve')).map((m: Json) => m.content).filter((c: string) => c === 'let me in' || c === 'again')).toEqual([
      'let me in',
      'again',
    ]);
    expect(await listIds(url, { user: 'conv-eve' })).toEqual(['alice-private']);
    // Listing everyone's (the seed's "all conversations") shows both, each with its user.
    const all = await listConversations(url, { limit: 100 });
    expect((all.body as Json).data.filter((c: Json) => c.id === 'alice-private').map((c: Json) => c.user).sort()).toEqual(['conv-alice', 'conv-eve']);
  });

  it('deleting an id several users have, without naming the user, is a 409 that deletes nothing', async () => {
    const { url } = server();
    await turn(url, { user: 'twin-a', conversation_id: 'twin-conv', query: 'first' });
    await turn(url, { user: 'twin-b', conversation_id: 'twin-conv', query: 'second' });
    const refused = await deleteConversation(url, { conversation_id: 'twin-conv' });
    expectErrorBody(refused, 409, '对话删除失败');
    expect((refused.body as Json).error).toMatch(/used by several users; name the user/);
    expect((await deleteConversation(url, { conversation_id: 'twin-conv', user: 'twin-a' })).status).toBe(200);
    expect(await listIds(url, { user: 'twin-a' })).toEqual([]);
    expect(await listIds(url, { user: 'twin-b' })).toEqual(['twin-conv']);
    // Now one user has it: the id alone names it again.
    expect((await deleteConversation(url, { conversation_id: 'twin-conv' })).status).toBe(200);
    expect(await listIds(url, { user: 'twin-b' })).toEqual([]);
  });

  it('creates a client-chosen conversation_id with that id, then continues it', async () => {
    const { url } = server();
    const first = await turn(url, { user: 'chooser', conversation_id: 'my-own-id_1.x', query: 'first question' });
    expect(first.conversation_id).toBe('my-own-id_1.x');
    expect(await listIds(url, { user: 'chooser' })).toEqual(['my-own-id_1.x']);

    const second = await turn(url, { user: 'chooser', conversation_id: 'my-own-id_1.x', query: 'second question' });
    expect(second.conversation_id).toBe('my-own-id_1.x');
    const stored = await storedMessages(url, 'my-own-id_1.x');
    expect(stored.map((m: Json) => [m.role, m.role === 'user' ? m.content : m.id])).toEqual([
      ['user', 'first question'],
      ['assistant', first.message_id],
      ['user', 'second question'],
      ['assistant', second.message_id],
    ]);
  });

  it("without conversation_id continues the user's current (last used) conversation, else starts a new one", async () => {
    const { url } = server();
    // A user with no conversation gets a new one.
    const a1 = await turn(url, { user: 'current-user', query: 'start' });
    expect(a1.conversation_id).toMatch(/\S/);
    await sleep(3);
    // ...which is then continued.
    const a2 = await turn(url, { user: 'current-user', query: 'and then?' });
    expect(a2.conversation_id).toBe(a1.conversation_id);
    await sleep(3);
    // Using another conversation makes it the current one.
    await turn(url, { user: 'current-user', conversation_id: 'current-b', query: 'switch' });
    await sleep(3);
    const b2 = await turn(url, { user: 'current-user', query: 'still here?' });
    expect(b2.conversation_id).toBe('current-b');
    await sleep(3);
    // ...and going back to the first one makes that current again.
    await turn(url, { user: 'current-user', conversation_id: a1.conversation_id, query: 'back' });
    await sleep(3);
    const a4 = await turn(url, { user: 'current-user', query: 'where am I?' });
    expect(a4.conversation_id).toBe(a1.conversation_id);

    // Another user's current conversation is not theirs: they get a new one.
    const other = await turn(url, { user: 'current-other', query: 'hello' });
    expect([a1.conversation_id, 'current-b']).not.toContain(other.conversation_id);
    expect((await listIds(url, { user: 'current-user' })).sort()).toEqual([a1.conversation_id, 'current-b'].sort());
    expect(await storedMessages(url, a1.conversation_id)).toHaveLength(8);
  });

  it('stores manager_id with a new conversation and lists by it', async () => {
    const { url } = server();
    await turn(url, { user: 'mgr-converse', conversation_id: 'with-manager', manager_id: 'manager-42', query: 'hi' });
    await turn(url, { user: 'mgr-converse', conversation_id: 'without-manager', query: 'hi' });
    const res = await listConversations(url, { manager_id: 'manager-42' });
    expect(res.status).toBe(200);
    expect((res.body as Json).data.map((c: Json) => c.id)).toEqual(['with-manager']);
    expect((res.body as Json).data[0].manager_id).toBe('manager-42');
  });

  it('uses files by upload path and by record id', async () => {
    const s = server();
    s.writeInbox('volcano.txt', 'Mount Etna is an active stratovolcano on the east coast of Sicily.');
    const up = await uploadPaths(s.url, ['volcano.txt']);
    expect(up.status).toBe(200);
    const id = (up.body as Json).response[0].id as string;
    for (const ref of ['volcano.txt', id]) {
      const body = await turn(s.url, { user: 'files-user', query: 'Where is Mount Etna?', files: [ref] });
      expect(body.answer).toContain('Sicily');
      expect(body.metadata.retriever_resources.map((r: Json) => r.document_id)).toContain(id);
    }
  });

  it('refuses an unknown response_mode with 400', async () => {
    const res = await converse(server().url, { query: 'hi', response_mode: 'telepathy' });
    expectErrorBody(res, 400);
  });

  describe('streaming (response_mode: "streaming")', () => {
    it('answers NDJSON: headers, numbered events, message_end last, deltas equal the stored answer', async () => {
      const s = server();
      s.writeInbox('owls.txt', 'Owls hunt at night. Their soft feathers let them fly almost silently.\n\nOwls can turn their heads about 270 degrees.');
      expect((await uploadPaths(s.url, ['owls.txt'])).status).toBe(200);
      const { res, events } = await converseStreaming(s.url, {
        user: 'stream-user',
        conversation_id: 'stream-1',
        query: 'How far can owls turn their heads?',
        files: ['owls.txt'],
        response_mode: 'streaming',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(res.headers.get('x-accel-buffering')).toBe('no');

      expect(events.length).toBeGreaterThan(1);
      const messageId = events[0].message_id;
      expect(typeof messageId).toBe('string');
      events.forEach((e, i) => {
        expect(typeof e.event).toBe('string');
        expect(e.id).toBe(String(i + 1));
        expect(e.conversation_id).toBe('stream-1');
        expect(e.message_id).toBe(messageId);
      });
      const end = events.at(-1);
      expect(end.event).toBe('message_end');
      expect(end.status).toBe('complete');
      expect(end.metadata.retriever_resources[0]).toMatchObject({ document_name: 'owls.txt' });
      expect(events.slice(0, -1).every((e) => e.event !== 'message_end')).toBe(true);

      const answer = answerOf(events);
      expect(answer).toContain('270 degrees');
      const stored = await storedMessages(s.url, 'stream-1');
      const assistant = stored.find((m: Json) => m.id === messageId);
      expect(assistant).toMatchObject({ role: 'assistant', status: 'complete', content: answer });
    });

    it('answers errors found before the stream starts as JSON, not NDJSON', async () => {
      const res = await converse(server().url, { query: 'hi', files: ['not-uploaded.txt'], response_mode: 'streaming' });
      expectErrorBody(res, 400);
      expect((res.body as Json).error).toContain('not-uploaded.txt');
      const noQuery = await converse(server().url, { query: '', response_mode: 'streaming' });
      expect(noQuery.status).toBe(400);
      expect((noQuery.body as Json).message).toBe(NO_QUERY);
    });
  });
});

describe('POST /converse with DEFAULT_RESPONSE_MODE=streaming', () => {
  const server = useServer({ DEFAULT_RESPONSE_MODE: 'streaming' });

  it('streams NDJSON when the request names no response_mode', async () => {
    const { url } = server();
    const { res, events } = await converseStreaming(url, { user: 'default-mode', query: 'hello there' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    expect(events.map((e) => e.id)).toEqual(events.map((_e, i) => String(i + 1)));
    const stored = await storedMessages(url, events[0].conversation_id);
    expect(stored.find((m: Json) => m.id === events[0].message_id)?.content).toBe(answerOf(events));
  });

  it('still answers blocking JSON when asked to', async () => {
    const res = await converse(server().url, { user: 'default-mode', query: 'hello again', response_mode: 'blocking' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((res.body as Json).event).toBe('message');
  });
});

describe('unknown routes', () => {
  const server = useServer();

  it.each([
    ['GET', '/no/such/route'],
    ['POST', '/no_such_route'],
    ['GET', '/delete_conv'],
    ['PUT', '/converse'],
    ['GET', '/upload_files'],
    ['POST', '/get_conversation_list'],
  ])('%s %s answers 404 JSON {message, error}', async (method, path) => {
    const res = await requestJson(`${server().url}${path}`, method === 'GET' ? {} : { method, body: {} });
    expectErrorBody(res, 404);
  });
});
