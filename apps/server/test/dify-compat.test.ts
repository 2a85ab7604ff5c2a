/**
 * The Dify-compatible surface driven by the real `dify-client` package from npm (issue 15):
 * blocking and streaming chat, conversation list / rename / delete, message history pages, a
 * file upload then a turn that uses it, stop. One app key serves many end users, each in the
 * key's own namespace. Conversations are visible through tRPC and `GET /get_conversation_list`.
 */
import type { Readable } from 'node:stream';
import { ChatClient } from 'dify-client';
import { describe, expect, it } from 'vitest';
import { listConversations, storedMessages, trpcQuery, useServer, waitUntil, type Json } from './support/http-helpers.ts';

const KEYS = { app: 'dify-app-key-000000001', other: 'dify-app-key-000000002', alice: 'dify-alice-key-0000003', admin: 'dify-admin-key-0000004' };

interface AxiosLikeError {
  response?: { status: number; data: unknown };
}

/** The HTTP status and Dify error body of a failed dify-client call. */
async function failure(p: Promise<unknown>): Promise<{ status: number; body: Json }> {
  try {
    await p;
  } catch (err) {
    const res = (err as AxiosLikeError).response;
    if (res) return { status: res.status, body: res.data };
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Dify's SSE events from a streaming dify-client response (`data: {...}` blocks). */
async function sseEvents(stream: Readable): Promise<Json[]> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice('data: '.length)) as Json);
}

describe('dify-client against Colloquy', () => {
  const server = useServer({
    API_KEYS: `${KEYS.app}:acme:app,${KEYS.other}:globex:app,${KEYS.alice}:alice:user,${KEYS.admin}:ops:admin`,
    LOCAL_AGENT_DELTA_DELAY_MS: '5',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const chat = (key = KEYS.app) => new ChatClient(key, `${server().url}/v1`);
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  it('answers a blocking chat message in Dify’s shape, as a new conversation', async () => {
    const { data, status } = await chat().createChatMessage({ topic: 'cats' }, 'How long do cats sleep?', 'bob');
    expect(status).toBe(200);
    expect(data).toMatchObject({ event: 'message', mode: 'chat', conversation_id: expect.any(String), message_id: expect.any(String), task_id: data.message_id });
    expect(data.answer.length).toBeGreaterThan(0);
    expect(data.metadata.usage.total_tokens).toBeGreaterThan(0);
    const again = await chat().createChatMessage({}, 'Another topic', 'bob');
    expect(again.data.conversation_id).not.toBe(data.conversation_id);
    // The inputs stay with the conversation.
    const list = await chat().getConversations('bob');
    expect(list.data.data.find((c: Json) => c.id === data.conversation_id).inputs).toEqual({ topic: 'cats' });
  });

  it('streams a chat message as Dify events and continues the conversation', async () => {
    const first = await chat().createChatMessage({}, 'Tell me about cats.', 'bob', true);
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = await sseEvents(first.data);
    expect(events[0]).toMatchObject({ event: 'message' });
    expect(events.at(-1)).toMatchObject({ event: 'message_end', metadata: { usage: expect.any(Object) } });
    const answer = events.filter((e) => e.event === 'message').map((e) => e.answer).join('');
    const { conversation_id, task_id } = events.at(-1);
    expect(task_id).toBe(events.at(-1).message_id);
    const next = await chat().createChatMessage({}, 'And dogs?', 'bob', true, conversation_id);
    const more = await sseEvents(next.data);
    expect(more.at(-1)).toMatchObject({ event: 'message_end', conversation_id });
    const stored = await storedMessages(server().url, conversation_id, 'bob', auth(KEYS.app));
    expect(stored.map((m: Json) => m.content)).toEqual(['Tell me about cats.', answer, 'And dogs?', expect.any(String)]);
  });

  it('lists, renames (also auto_generate) and deletes conversations', async () => {
    const made = await chat().createChatMessage({}, 'Rename me please', 'carol');
    const id = made.data.conversation_id;
    const list = await chat().getConversations('carol', null, 10);
    expect(list.data).toMatchObject({ limit: 10, has_more: false });
    expect(list.data.data.map((c: Json) => c.id)).toEqual([id]);
    const renamed = await chat().renameConversation(id, 'Cats', 'carol');
    expect(renamed.data).toMatchObject({ id, name: 'Cats' });
    // dify-client's JS takes auto_generate as a fourth argument; its .d.ts does not declare it.
    const untyped = chat() as unknown as { renameConversation(...args: unknown[]): Promise<{ data: Json }> };
    const auto = await untyped.renameConversation(id, undefined, 'carol', true);
    expect(auto.data.name).toBe('Rename me please');
    expect((await chat().deleteConversation(id, 'carol')).data).toEqual({ result: 'success' });
    expect((await chat().getConversations('carol')).data.data).toEqual([]);
    const gone = await failure(chat().deleteConversation(id, 'carol'));
    expect(gone).toMatchObject({ status: 404, body: { code: 'not_found', status: 404 } });
  });

  it('pages message history with first_id, limit and has_more', async () => {
    let conversation: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await chat().createChatMessage({}, `question ${i}`, 'dave', false, conversation);
      conversation = r.data.conversation_id;
    }
    const latest = await chat().getConversationMessages('dave', conversation, null, 2);
    expect(latest.data).toMatchObject({ limit: 2, has_more: true });
    expect(latest.data.data.map((m: Json) => m.query)).toEqual(['question 3', 'question 4']);
    expect(latest.data.data[0].answer.length).toBeGreaterThan(0);
    const earlier = await chat().getConversationMessages('dave', conversation, latest.data.data[0].id, 2);
    expect(earlier.data.data.map((m: Json) => m.query)).toEqual(['question 1', 'question 2']);
    expect(earlier.data.has_more).toBe(true);
    const first = await chat().getConversationMessages('dave', conversation, earlier.data.data[0].id, 2);
    expect(first.data).toMatchObject({ has_more: false });
    expect(first.data.data.map((m: Json) => m.query)).toEqual(['question 0']);
    expect(await failure(chat().getConversationMessages('dave', 'no-such-conversation'))).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('uploads a file, then a turn uses it', async () => {
    const form = new FormData();
    form.append('file', new Blob(['The lighthouse keeper logs the weather every morning at six.'], { type: 'text/plain' }), 'keeper.txt');
    form.append('user', 'erin');
    const uploaded = await chat().fileUpload(form);
    expect(uploaded.status).toBe(201);
    expect(uploaded.data).toMatchObject({ name: 'keeper.txt', extension: 'txt', mime_type: 'text/plain', created_by: 'acme:erin' });
    const answer = await chat().createChatMessage({}, 'When does the keeper log the weather?', 'erin', false, null, [
      { type: 'document', transfer_method: 'local_file', upload_file_id: uploaded.data.id },
    ] as never);
    expect(answer.data.answer).toMatch(/six/);
    // Another end user of the app cannot use erin's file.
    const refused = await failure(
      chat().createChatMessage({}, 'q', 'frank', false, null, [{ type: 'document', transfer_method: 'local_file', upload_file_id: uploaded.data.id }] as never),
    );
    expect(refused).toMatchObject({ status: 400, body: { code: 'invalid_param', status: 400 } });
    const empty = new FormData();
    empty.append('user', 'erin');
    expect(await failure(chat().fileUpload(empty))).toMatchObject({ status: 400, body: { code: 'no_file_uploaded' } });
  });

  it('stops a streaming answer with /chat-messages/:task_id/stop; a dropped client does not stop it', async () => {
    const long = 'Tell me everything you know about lighthouses, keepers, weather and the sea. '.repeat(3);
    const res = await chat().createChatMessage({}, long, 'gina', true);
    const stream = res.data as Readable;
    const taskId = await new Promise<string>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        const m = /"task_id":"([^"]+)"/.exec(String(chunk));
        if (m) resolve(m[1]!);
      });
      stream.on('error', reject);
    });
    const stopped = await chat().sendRequest('POST', `/chat-messages/${taskId}/stop`, { user: 'gina' });
    expect(stopped.data).toEqual({ result: 'success' });
    stream.destroy();
    const msg = await trpcQuery(server().url, 'messages.list', { user: 'gina', conversationId: (await chat().getConversations('gina')).data.data[0].id, limit: 10 }, auth(KEYS.app));
    expect(msg.items.at(-1).status).toBe('stopped');
    expect(await failure(chat().sendRequest('POST', '/chat-messages/not-a-task/stop', { user: 'gina' }))).toMatchObject({ status: 404 });

    // A client that goes away mid-stream: the answer completes and is stored.
    const dropped = await chat().createChatMessage({}, long, 'gina', true);
    const s2 = dropped.data as Readable;
    const conv = await new Promise<string>((resolve) => {
      s2.on('data', (chunk: Buffer) => {
        const m = /"conversation_id":"([^"]+)"/.exec(String(chunk));
        if (m) resolve(m[1]!);
      });
    });
    s2.destroy();
    const done = await waitUntil(async () => {
      const items = await storedMessages(server().url, conv, 'gina', auth(KEYS.app));
      return items.at(-1)?.status === 'complete' ? items.at(-1) : undefined;
    });
    expect(done.content.length).toBeGreaterThan(0);
  });

  it('answers parameters and meta', async () => {
    const params = await chat().getApplicationParameters('bob');
    expect(params.data).toMatchObject({ opening_statement: '', user_input_form: [], system_parameters: { file_size_limit: 20 } });
    expect((await chat().sendRequest('GET', '/meta', null, { user: 'bob' })).data).toEqual({ tool_icons: {} });
  });

  it('keeps end users apart: per end user, per app key, and from user keys', async () => {
    const bobs = (await chat().getConversations('bob')).data.data.map((c: Json) => c.id);
    expect(bobs.length).toBeGreaterThan(0);
    expect((await chat(KEYS.other).getConversations('bob')).data.data).toEqual([]);
    expect((await chat().getConversations('nobody')).data.data).toEqual([]);
    expect(await failure(chat(KEYS.other).getConversationMessages('bob', bobs[0]))).toMatchObject({ status: 404 });
    expect(await failure(chat(KEYS.other).createChatMessage({}, 'q', 'bob', false, bobs[0]))).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    // A user key keeps today's rule: its own user only.
    const own = await chat(KEYS.alice).createChatMessage({}, 'alice asks', 'alice');
    expect(own.status).toBe(200);
    expect(await failure(chat(KEYS.alice).getConversations('bob'))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    // An app key must name the end user.
    expect(await failure(chat().sendRequest('GET', '/conversations'))).toMatchObject({ status: 400, body: { code: 'invalid_param' } });
    expect(await failure(new ChatClient('wrong', `${server().url}/v1`).getConversations('bob'))).toMatchObject({
      status: 401,
      body: { code: 'unauthorized', status: 401 },
    });
  });

  it('conversations made over Dify are listed by REST and tRPC (admin), and REST ones continue here', async () => {
    const admin = await listConversations(server().url, { limit: 100 }, auth(KEYS.admin));
    const trpc = await trpcQuery(server().url, 'conversations.list', { limit: 100 }, auth(KEYS.admin));
    const restIds = (admin.body as Json).data.map((c: Json) => `${c.user}/${c.id}`).sort();
    expect(restIds).toEqual(trpc.items.map((c: Json) => `${c.userId}/${c.id}`).sort());
    expect(restIds.some((id: string) => id.startsWith('acme:bob/'))).toBe(true);
    const bobsOwn = await listConversations(server().url, { limit: 100, user: 'bob' }, auth(KEYS.app));
    expect((bobsOwn.body as Json).data.length).toBe((await chat().getConversations('bob', null, 100)).data.data.length);
    // A conversation alice started over REST, continued over Dify.
    const rest = await fetch(`${server().url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
      body: JSON.stringify({ query: 'from rest', conversation_id: 'alice-rest' }),
    });
    expect(rest.status).toBe(200);
    const cont = await chat(KEYS.alice).createChatMessage({}, 'from dify', 'alice', false, 'alice-rest');
    expect(cont.data.conversation_id).toBe('alice-rest');
    const msgs = await chat(KEYS.alice).getConversationMessages('alice', 'alice-rest');
    expect(msgs.data.data.map((m: Json) => m.query)).toEqual(['from rest', 'from dify']);
  });
});
