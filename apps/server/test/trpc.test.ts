import type { StreamEvent } from '@colloquy/api';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient } from './support/trpc-client.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const LONG_DOC = Array.from(
  { length: 12 },
  (_, i) =>
    `Section ${i + 1}. The orbital rocket engine number ${i + 1} burns liquid hydrogen with liquid oxygen, ` +
    `and its turbopump spins at high speed to feed the combustion chamber with propellant for thrust.`,
).join('\n\n');

let server: TestServer;
let client: ReturnType<typeof createTestClient>;

beforeAll(async () => {
  // A slow local agent so streams last long enough to interrupt, stop and re-attach.
  server = await startTestServer({ LOCAL_AGENT_DELTA_DELAY_MS: '15', FLUSH_INTERVAL_MS: '100' });
  client = createTestClient(server.url);
  server.writeInbox('engines.md', LONG_DOC);
  server.writeInbox('cats.txt', 'Cats sleep about sixteen hours a day and purr when content.');
});
afterAll(() => server.dispose());

/** Collects a subscription until its `message_end`, optionally acting after each event. */
function collect(
  input: { messageId: string; lastEventId?: string },
  onEvent?: (e: StreamEvent, all: StreamEvent[]) => void | Promise<void>,
): Promise<StreamEvent[]> {
  return new Promise((resolve, reject) => {
    const seen: StreamEvent[] = [];
    const sub = client.chat.events.subscribe(input, {
      onData(tracked) {
        seen.push(tracked.data);
        void Promise.resolve(onEvent?.(tracked.data, seen)).catch(reject);
        if (tracked.data.event === 'message_end') {
          sub.unsubscribe();
          resolve(seen);
        }
      },
      onError: reject,
    });
  });
}

const answerOf = (events: StreamEvent[]) =>
  events.map((e) => (e.event === 'message' ? e.answer : '')).join('');

describe('tRPC procedures', () => {
  it('uploads by path, lists and gets files', async () => {
    const files = await client.files.uploadPaths.mutate({ paths: ['engines.md', 'cats.txt'], user: 'ann' });
    expect(files.map((f) => f.name)).toEqual(['engines.md', 'cats.txt']);
    expect(files.every((f) => f.hasText && f.userId === 'ann')).toBe(true);
    const page = await client.files.list.query({ user: 'ann' });
    expect(page.items.map((f) => f.id).sort()).toEqual(files.map((f) => f.id).sort());
    expect(await client.files.get.query({ id: files[0]!.id })).toMatchObject({ name: 'engines.md', originKind: 'path' });
  });

  it('converses (blocking) with citations, then lists, renames and deletes the conversation', async () => {
    const answer = await client.chat.converse.mutate({
      user: 'ann',
      query: 'How long do cats sleep?',
      files: ['cats.txt'],
      managerId: 'mgr-1',
    });
    expect(answer.status).toBe('complete');
    expect(answer.answer).toContain('sixteen hours');
    expect(answer.citations[0]).toMatchObject({ fileName: 'cats.txt' });
    expect(answer.usage?.totalTokens).toBeGreaterThan(0);

    const conv = await client.conversations.get.query({ id: answer.conversationId, user: 'ann' });
    expect(conv).toMatchObject({ name: 'How long do cats sleep?', managerId: 'mgr-1', agentId: 'local', userId: 'ann' });
    const byManager = await client.conversations.list.query({ managerId: 'mgr-1' });
    expect(byManager.items.map((c) => c.id)).toEqual([answer.conversationId]);

    const messages = await client.messages.list.query({ conversationId: answer.conversationId });
    expect(messages.items.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(messages.items[1]?.content).toBe(answer.answer);

    const renamed = await client.conversations.rename.mutate({ id: answer.conversationId, name: 'Cat facts' });
    expect(renamed.name).toBe('Cat facts');
    await client.conversations.delete.mutate({ id: answer.conversationId });
    await expect(client.conversations.get.query({ id: answer.conversationId })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND', httpStatus: 404 },
    });
  });

  it('pages conversations with a cursor', async () => {
    for (let i = 0; i < 5; i++) await client.chat.converse.mutate({ user: 'pager', query: `question ${i}`, conversationId: `pg-${i}` });
    const first = await client.conversations.list.query({ user: 'pager', limit: 2 });
    expect(first.items.map((c) => c.id)).toEqual(['pg-4', 'pg-3']);
    const second = await client.conversations.list.query({ user: 'pager', limit: 2, cursor: first.nextCursor! });
    const third = await client.conversations.list.query({ user: 'pager', limit: 2, cursor: second.nextCursor! });
    expect([...second.items, ...third.items].map((c) => c.id)).toEqual(['pg-2', 'pg-1', 'pg-0']);
    expect(third.nextCursor).toBeNull();
  });

  it('lists the agents', async () => {
    expect(await client.agents.list.query()).toEqual([
      expect.objectContaining({ id: 'local', type: 'local', isDefault: true, reachable: true }),
    ]);
  });

  it('rejects bad input and unknown agents with BAD_REQUEST', async () => {
    await expect(client.chat.send.mutate({ query: '   ' })).rejects.toBeInstanceOf(TRPCClientError);
    await expect(client.chat.send.mutate({ query: 'x', agent: 'nope' })).rejects.toMatchObject({
      message: expect.stringContaining('Valid agents: local'),
      data: { httpStatus: 400 },
    });
  });
});

describe('streaming over SSE', () => {
  it('streams a turn whose deltas equal the stored answer', async () => {
    const { messageId, conversationId } = await client.chat.send.mutate({
      user: 'sam',
      query: 'What does the rocket engine burn?',
      files: ['engines.md'],
    });
    const events = await collect({ messageId });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => String(i + 1)));
    expect(events.every((e) => e.conversation_id === conversationId && e.message_id === messageId)).toBe(true);
    const end = events.at(-1);
    expect(end).toMatchObject({ event: 'message_end', status: 'complete' });
    const stored = await client.messages.list.query({ conversationId });
    expect(stored.items[1]).toMatchObject({ id: messageId, status: 'complete', content: answerOf(events) });
  });

  it('re-attaches after a forced disconnect and delivers every later event exactly once, in order', async () => {
    const { messageId, conversationId } = await client.chat.send.mutate({
      user: 'sam',
      query: 'Explain the turbopump and the combustion chamber propellant',
      files: ['engines.md'],
    });
    let cut = false;
    const events = await collect({ messageId }, (_e, all) => {
      if (!cut && all.length === 5) {
        cut = true;
        // Kill every open connection, the SSE stream included: the client must reconnect
        // with the last event id it saw.
        server.server.closeAllConnections();
      }
    });
    expect(cut).toBe(true);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    const stored = await client.messages.list.query({ conversationId });
    expect(stored.items.at(-1)?.content).toBe(answerOf(events));
  });

  it('resumes from an explicit lastEventId', async () => {
    const { messageId } = await client.chat.send.mutate({ user: 'sam', query: 'rocket engine thrust', files: ['engines.md'] });
    const all = await collect({ messageId });
    const tail = await collect({ messageId, lastEventId: '3' });
    expect(tail.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    expect(tail).toEqual(all.slice(3));
  });

  it('chat.stop ends the stream as stopped and keeps the partial text', async () => {
    const { messageId, conversationId } = await client.chat.send.mutate({
      user: 'sam',
      query: 'liquid hydrogen oxygen turbopump chamber',
      files: ['engines.md'],
    });
    let stopCall: Promise<unknown> | undefined;
    const events = await collect({ messageId }, (_e, all) => {
      if (all.length === 4) stopCall = client.chat.stop.mutate({ messageId });
    });
    expect(await stopCall).toEqual({ messageId, status: 'stopped' });
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
    const partial = answerOf(events);
    expect(partial.length).toBeGreaterThan(0);
    const stored = (await client.messages.list.query({ conversationId })).items.at(-1);
    expect(stored).toMatchObject({ id: messageId, status: 'stopped', content: partial });
    // The full answer would have been much longer than what was generated before the stop.
    const full = await client.chat.converse.mutate({ user: 'sam', query: 'liquid hydrogen oxygen turbopump chamber', files: ['engines.md'] });
    expect(full.answer.length).toBeGreaterThan(partial.length);
  });

  it('keeps generating when the client goes away, and a late re-attach gets the rest', async () => {
    const { messageId, conversationId } = await client.chat.send.mutate({ user: 'sam', query: 'engine number propellant', files: ['engines.md'] });
    // Listen to two events and leave.
    const firstTwo = await new Promise<StreamEvent[]>((resolve, reject) => {
      const seen: StreamEvent[] = [];
      const sub = client.chat.events.subscribe({ messageId }, {
        onData(t) {
          seen.push(t.data);
          if (seen.length === 2) {
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError: reject,
      });
    });
    const rest = await collect({ messageId, lastEventId: firstTwo[1]!.id });
    const stored = (await client.messages.list.query({ conversationId })).items.at(-1);
    expect(stored?.status).toBe('complete');
    expect(answerOf([...firstTwo, ...rest])).toBe(stored?.content);
  });

  it('answers 404 for an unknown message and for another user\'s message', async () => {
    await expect(collect({ messageId: 'does-not-exist' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    const { messageId } = await client.chat.send.mutate({ user: 'owner', query: 'hello there' });
    await expect(client.chat.stop.mutate({ messageId, user: 'intruder' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });
});

describe('after the live stream expired', () => {
  it('a re-attach gets the stored message as one final event', async () => {
    const short = await startTestServer({ STREAM_RETENTION_MS: '1000' });
    try {
      const c = createTestClient(short.url);
      short.writeInbox('cats.txt', 'Cats sleep about sixteen hours a day.');
      await c.files.uploadPaths.mutate({ paths: ['cats.txt'] });
      const answer = await c.chat.converse.mutate({ query: 'how long do cats sleep', files: ['cats.txt'] });
      await new Promise((r) => setTimeout(r, 1300));
      const events = await new Promise<StreamEvent[]>((resolve, reject) => {
        const seen: StreamEvent[] = [];
        const sub = c.chat.events.subscribe({ messageId: answer.messageId }, {
          onData: (t) => {
            seen.push(t.data);
            sub.unsubscribe();
            resolve(seen);
          },
          onError: reject,
        });
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ event: 'message_end', status: 'complete', answer: answer.answer });
    } finally {
      await short.dispose();
    }
  });
});
