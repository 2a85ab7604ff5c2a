import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '@colloquy/api';
import { TRPCClientError } from '@trpc/client';
import { waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient } from './support/trpc-client.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

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

describe('client-chosen message ids', () => {
  it('names the answer with the id the client chose; the same id again is a 409 that changes nothing', async () => {
    const messageId = randomUUID();
    const started = await client.chat.send.mutate({ user: 'ida', query: 'How long do cats sleep?', files: ['cats.txt'], messageId });
    expect(started.messageId).toBe(messageId);
    const events = await collect({ messageId });
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete', message_id: messageId });

    const before = await client.conversations.list.query({ user: 'ida' });
    const messagesBefore = await client.messages.list.query({ user: 'ida', conversationId: started.conversationId });
    // Continuing the conversation, and starting a new one, with the id in use: both refused.
    for (const conversationId of [started.conversationId, 'ida-fresh-conversation']) {
      const clash = await client.chat.send.mutate({ user: 'ida', query: 'again', conversationId, messageId }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(TRPCClientError);
      expect(clash).toMatchObject({ data: { code: 'CONFLICT', httpStatus: 409 }, message: expect.stringContaining('already in use') });
      await expect(client.chat.converse.mutate({ user: 'ida', query: 'again', conversationId, messageId })).rejects.toMatchObject({
        data: { httpStatus: 409 },
      });
    }
    // Nothing was written: no conversation created, no message added, the answer untouched.
    expect(await client.conversations.list.query({ user: 'ida' })).toEqual(before);
    expect(await client.messages.list.query({ user: 'ida', conversationId: started.conversationId })).toEqual(messagesBefore);
    // Another user's id clashes the same way (ids are global), and reveals nothing else.
    await expect(client.chat.send.mutate({ user: 'not-ida', query: 'hi', messageId })).rejects.toMatchObject({ data: { httpStatus: 409 } });
  });

  it('takes only UUIDs', async () => {
    await expect(client.chat.send.mutate({ user: 'ida', query: 'hi', messageId: 'my-message-1' })).rejects.toMatchObject({
      data: { httpStatus: 400 },
      message: expect.stringContaining('messageId: must be a UUID'),
    });
  });

  it('two concurrent turns with the same id: one starts, the other is a 409', async () => {
    const messageId = randomUUID();
    const results = await Promise.allSettled(
      ['race-a', 'race-b'].map((conversationId) => client.chat.send.mutate({ user: 'ida', query: 'race', conversationId, messageId })),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ data: { httpStatus: 409 } });
    await collect({ messageId });
    // The refused turn left no conversation behind.
    const ids = (await client.conversations.list.query({ user: 'ida' })).items.map((c) => c.id);
    expect(ids.filter((id) => id.startsWith('race-'))).toHaveLength(1);
  });
});

describe('managerId of a continued conversation', () => {
  it('over tRPC a different managerId is a 409 that changes nothing; the same one, or none, continues', async () => {
    const first = await client.chat.converse.mutate({ user: 'max', query: 'first', conversationId: 'max-conv', managerId: 'team-a' });
    const messagesBefore = await client.messages.list.query({ user: 'max', conversationId: first.conversationId });
    // Named, and as the user's latest conversation (no id): both refused.
    for (const conversationId of ['max-conv', undefined]) {
      const err = await client.chat.send.mutate({ user: 'max', query: 'second', conversationId, managerId: 'team-b' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ data: { code: 'CONFLICT', httpStatus: 409 } });
      expect((err as Error).message).toContain('conversation max-conv has managerId "team-a", not "team-b"');
    }
    expect(await client.messages.list.query({ user: 'max', conversationId: 'max-conv' })).toEqual(messagesBefore);
    await client.chat.converse.mutate({ user: 'max', query: 'same manager', conversationId: 'max-conv', managerId: 'team-a' });
    await client.chat.converse.mutate({ user: 'max', query: 'no manager named', conversationId: 'max-conv' });
    expect((await client.messages.list.query({ user: 'max', conversationId: 'max-conv' })).items).toHaveLength(6);
    // A conversation without a manager is not continued under one either.
    await client.chat.converse.mutate({ user: 'max', query: 'unmanaged', conversationId: 'max-plain' });
    await expect(client.chat.send.mutate({ user: 'max', query: 'x', conversationId: 'max-plain', managerId: 'team-a' })).rejects.toMatchObject({
      data: { httpStatus: 409 },
      message: expect.stringContaining('has no managerId'),
    });
  });

  it('over REST a different manager_id is ignored, as the original API does', async () => {
    const res = await requestJson(`${server.url}/converse`, {
      body: { user_id: 'max', conversation_id: 'max-conv', manager_id: 'team-z', query: 'REST keeps its rule', response_mode: 'blocking' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ conversation_id: 'max-conv' });
    expect(await client.conversations.get.query({ user: 'max', id: 'max-conv' })).toMatchObject({ managerId: 'team-a' });
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
      /** The first event a re-attach from the start gets. */
      const firstEvent = () =>
        new Promise<StreamEvent>((resolve, reject) => {
          const sub = c.chat.events.subscribe({ messageId: answer.messageId }, {
            onData: (t) => {
              sub.unsubscribe();
              resolve(t.data);
            },
            onError: reject,
          });
        });
      // While the live stream is kept (1 s), a re-attach replays it from its first event; then
      // the stored message stands for it all, as one final event.
      const first = await waitFor(async () => {
        const event = await firstEvent();
        return event.event === 'message_end' && event;
      }, 10_000);
      expect(first).toMatchObject({ event: 'message_end', status: 'complete', answer: answer.answer });
    } finally {
      await short.dispose();
    }
  });
});
