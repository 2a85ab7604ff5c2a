/**
 * The router's turn and listing options the OpenAI and Dify adapters stand on (issue 15),
 * through a plain tRPC client against a real server: a new conversation on request, a
 * conversation that must exist, a history from the request, app inputs, rename with
 * autoGenerate, messages paged backwards, and app keys' end-user namespaces.
 */
import { OPENAI_KEY, OPENAI_MODEL, startFakeOpenAI, type FakeOpenAI } from '@colloquy/testing';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServer } from './support/http-helpers.ts';
import { startTestServer } from './support/test-server.ts';
import { createTestClient } from './support/trpc-client.ts';

const KEYS = { app: 'turn-opts-app-key-0001', other: 'turn-opts-app-key-0002', alice: 'turn-opts-user-key-0003', admin: 'turn-opts-admin-key-004' };

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return (err.data as { code?: string } | undefined)?.code;
    throw err;
  }
  return undefined;
}

describe('turn options', () => {
  const server = useServer();
  const client = () => createTestClient(server().url);

  it('conversationMode new starts a new conversation instead of the latest, and refuses a used id', async () => {
    const first = await client().chat.converse.mutate({ user: 'nina', query: 'first question' });
    const second = await client().chat.converse.mutate({ user: 'nina', query: 'second question', conversationMode: 'new' });
    expect(second.conversationId).not.toBe(first.conversationId);
    const auto = await client().chat.converse.mutate({ user: 'nina', query: 'third question' });
    expect(auto.conversationId).toBe(second.conversationId);
    const named = await client().chat.converse.mutate({ user: 'nina', query: 'named', conversationId: 'nina-new', conversationMode: 'new' });
    expect(named.conversationId).toBe('nina-new');
    expect(await codeOf(client().chat.converse.mutate({ user: 'nina', query: 'again', conversationId: 'nina-new', conversationMode: 'new' }))).toBe('CONFLICT');
    // Another user's conversation of that id is none of nina's: free for her... and for omar.
    expect((await client().chat.converse.mutate({ user: 'omar', query: 'mine', conversationId: 'nina-new', conversationMode: 'new' })).conversationId).toBe('nina-new');
  });

  it('conversationMode existing continues only a conversation that exists', async () => {
    expect(await codeOf(client().chat.converse.mutate({ user: 'nina', query: 'q', conversationId: 'never-made', conversationMode: 'existing' }))).toBe('NOT_FOUND');
    expect(await codeOf(client().chat.converse.mutate({ user: 'nina', query: 'q', conversationMode: 'existing' }))).toBe('BAD_REQUEST');
    const { items } = await client().conversations.list.query({ user: 'nina', limit: 100 });
    expect(items.some((c) => c.id === 'never-made')).toBe(false);
    const cont = await client().chat.converse.mutate({ user: 'nina', query: 'more', conversationId: 'nina-new', conversationMode: 'existing' });
    expect(cont.conversationId).toBe('nina-new');
  });

  it('keeps the inputs of a new conversation; a continued one keeps its own', async () => {
    const a = await client().chat.converse.mutate({ user: 'ivy', query: 'hello', conversationMode: 'new', inputs: { topic: 'cats', n: 1 } });
    await client().chat.converse.mutate({ user: 'ivy', query: 'again', conversationId: a.conversationId, inputs: { topic: 'dogs' } });
    expect((await client().conversations.get.query({ user: 'ivy', id: a.conversationId })).inputs).toEqual({ topic: 'cats', n: 1 });
    expect(await codeOf(client().chat.converse.mutate({ user: 'ivy', query: 'big', inputs: { x: 'y'.repeat(20_000) } }))).toBe('BAD_REQUEST');
  });

  it('renames with autoGenerate from the first question; a given name wins', async () => {
    const a = await client().chat.converse.mutate({ user: 'rex', query: '  How   long do cats sleep?  ', conversationMode: 'new' });
    await client().conversations.rename.mutate({ user: 'rex', id: a.conversationId, name: 'Custom' });
    expect((await client().conversations.rename.mutate({ user: 'rex', id: a.conversationId, autoGenerate: true })).name).toBe('How long do cats sleep?');
    expect((await client().conversations.rename.mutate({ user: 'rex', id: a.conversationId, autoGenerate: true, name: 'Mine' })).name).toBe('Mine');
    expect(await codeOf(client().conversations.rename.mutate({ user: 'rex', id: a.conversationId }))).toBe('BAD_REQUEST');
  });

  it('pages messages backwards from the end and from before a message', async () => {
    const conversationId = 'paged';
    for (let i = 0; i < 3; i++) await client().chat.converse.mutate({ user: 'pam', query: `q${i}`, conversationId });
    const all = (await client().messages.list.query({ user: 'pam', conversationId, limit: 100 })).items;
    expect(all).toHaveLength(6);
    const last = await client().messages.list.query({ user: 'pam', conversationId, limit: 4, fromEnd: true });
    expect(last.items.map((m) => m.id)).toEqual(all.slice(2).map((m) => m.id));
    expect(last.nextCursor).not.toBeNull();
    const earlier = await client().messages.list.query({ user: 'pam', conversationId, limit: 4, cursor: last.nextCursor! });
    expect(earlier.items.map((m) => m.id)).toEqual(all.slice(0, 2).map((m) => m.id));
    expect(earlier.nextCursor).toBeNull();
    const before = await client().messages.list.query({ user: 'pam', conversationId, limit: 2, beforeId: all[4]!.id });
    expect(before.items.map((m) => m.id)).toEqual(all.slice(2, 4).map((m) => m.id));
    expect(await codeOf(client().messages.list.query({ user: 'pam', conversationId, limit: 2, beforeId: 'no-such-message' }))).toBe('NOT_FOUND');
  });
});

describe('a request-supplied history', () => {
  let openai: FakeOpenAI;
  beforeAll(async () => {
    openai = await startFakeOpenAI();
  });
  afterAll(async () => {
    await openai?.close();
  });

  it('goes to the agent instead of the stored one; only the query and answer are stored', async () => {
    const s = await startTestServer({ OPENAI_BASE_URL: openai.baseUrl, OPENAI_MODEL, OPENAI_API_KEY: OPENAI_KEY });
    try {
      const c = createTestClient(s.url);
      const first = await c.chat.converse.mutate({ user: 'hal', query: 'stored question', agent: 'openai', conversationMode: 'new' });
      await c.chat.converse.mutate({
        user: 'hal',
        query: 'And now?',
        agent: 'openai',
        conversationId: first.conversationId,
        history: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Bonjour' },
        ],
      });
      const sent = openai.chats().at(-1)!.json as { messages: { role: string; content: string }[] };
      expect(sent.messages).toEqual([
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'And now?' },
      ]);
      const stored = (await c.messages.list.query({ user: 'hal', conversationId: first.conversationId, limit: 10 })).items;
      expect(stored.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(stored[2]!.content).toBe('And now?');
    } finally {
      await s.dispose();
    }
  });
});

describe('app keys', () => {
  const server = useServer({ API_KEYS: `${KEYS.app}:acme:app,${KEYS.other}:globex:app,${KEYS.alice}:alice:user,${KEYS.admin}:ops:admin` });
  const as = (key: string, headers: Record<string, string> = {}) => createTestClient(server().url, { authorization: `Bearer ${key}`, ...headers });

  it('acts for the end user it names, in its own namespace, and must name one', async () => {
    const bob = await as(KEYS.app).chat.converse.mutate({ user: 'bob', query: 'hello from bob', conversationId: 'shared-id' });
    expect(await codeOf(as(KEYS.app).chat.converse.mutate({ query: 'nobody' }))).toBe('BAD_REQUEST');
    // Another end user of the same app, another app's end user of the same name, and a user key
    // named like the end user: none sees bob's conversation.
    expect((await as(KEYS.app).conversations.list.query({ user: 'carl', limit: 10 })).items).toEqual([]);
    expect((await as(KEYS.other).conversations.list.query({ user: 'bob', limit: 10 })).items).toEqual([]);
    expect(await codeOf(as(KEYS.other).conversations.get.query({ user: 'bob', id: 'shared-id' }))).toBe('NOT_FOUND');
    expect(await codeOf(as(KEYS.alice).conversations.get.query({ id: 'shared-id' }))).toBe('NOT_FOUND');
    expect(await codeOf(as(KEYS.app).messages.list.query({ user: 'bob', conversationId: 'shared-id', limit: 5 }))).toBeUndefined();
    // The end user's own id, the header included.
    const own = await as(KEYS.app, { 'x-colloquy-user': 'bob' }).conversations.list.query({ limit: 10 });
    expect(own.items.map((c) => [c.id, c.userId])).toEqual([['shared-id', 'acme:bob']]);
    // Naming "alice" makes the app's end user alice, never the user key's alice.
    await as(KEYS.app).chat.converse.mutate({ user: 'alice', query: 'app alice', conversationId: 'a1' });
    expect((await as(KEYS.alice).conversations.list.query({ limit: 10 })).items).toEqual([]);
    // An admin sees the stored id.
    const all = await as(KEYS.admin).conversations.list.query({ limit: 100 });
    expect(all.items.map((c) => c.userId).sort()).toEqual(['acme:alice', 'acme:bob']);
    expect(bob.conversationId).toBe('shared-id');
  });
});
