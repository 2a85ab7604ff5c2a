/**
 * `chat.events` is written by the server's own SSE writer (http/trpc-events-route.ts), not by
 * tRPC's: these check that it still speaks tRPC v11's SSE protocol — on the wire, and to the real
 * `@trpc/client` httpSubscriptionLink, including a dropped connection that the client resumes
 * with `Last-Event-Id`, and errors as tRPC's serialized-error events.
 */
import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '@colloquy/api';
import { startTcpProxy, type TcpProxy } from '@colloquy/testing';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient } from './support/trpc-client.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

let server: TestServer;
let proxy: TcpProxy;

beforeAll(async () => {
  // A slow local agent: streams last long enough to cut them half way.
  server = await startTestServer({ LOCAL_AGENT_DELTA_DELAY_MS: '20' });
  server.writeInbox('cats.txt', 'Cats sleep about sixteen hours a day and purr when content. '.repeat(20));
  proxy = await startTcpProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.dispose();
});

const input = (o: Record<string, unknown>) => `?input=${encodeURIComponent(JSON.stringify(o))}`;

interface Frame {
  event?: string;
  data?: string;
  id?: string;
}

/** The SSE frames of a whole response (the spec's field parsing, enough for these checks). */
function frames(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const f: Frame = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event' || field === 'data' || field === 'id') f[field] = value;
      }
      return f;
    });
}

async function startTurn(user: string) {
  const client = createTestClient(server.url);
  return client.chat.send.mutate({ user, query: 'How long do cats sleep?', files: ['cats.txt'] });
}

describe('chat.events on the wire (tRPC v11 SSE)', () => {
  it('connected first, every event as data with its tracked id, return last', async () => {
    const client = createTestClient(server.url);
    await client.files.uploadPaths.mutate({ paths: ['cats.txt'], user: 'wire' });
    const { messageId } = await startTurn('wire');
    const res = await fetch(`${server.url}/trpc/chat.events${input({ messageId, user: 'wire' })}`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const all = frames(await res.text());
    expect(all[0]).toEqual({ event: 'connected', data: JSON.stringify({ reconnectAfterInactivityMs: 25_000 }) });
    expect(all.at(-1)).toEqual({ event: 'return', data: '' });
    const events = all.slice(1, -1);
    expect(events.length).toBeGreaterThan(3);
    for (const f of events) {
      expect(f.event).toBeUndefined();
      const e = JSON.parse(f.data!) as StreamEvent;
      expect(f.id).toBe(e.id);
    }
    expect(events.map((f) => Number(f.id))).toEqual(events.map((_, i) => i + 1));
    expect((JSON.parse(events.at(-1)!.data!) as StreamEvent).event).toBe('message_end');

    // Resuming with Last-Event-Id (the header an EventSource sends): only the later events.
    const resumed = await fetch(`${server.url}/trpc/chat.events${input({ messageId, user: 'wire' })}`, {
      headers: { accept: 'text/event-stream', 'last-event-id': '3' },
    });
    const later = frames(await resumed.text()).slice(1, -1);
    expect(later.map((f) => f.id)).toEqual(events.slice(3).map((f) => f.id));
    expect(later.map((f) => f.data)).toEqual(events.slice(3).map((f) => f.data));
  });

  it('an unknown message: HTTP 200, connected, then a serialized-error with tRPC\'s NOT_FOUND shape', async () => {
    const res = await fetch(`${server.url}/trpc/chat.events${input({ messageId: 'no-such-message' })}`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const all = frames(await res.text());
    expect(all.map((f) => f.event)).toEqual(['connected', 'serialized-error']);
    expect(JSON.parse(all[1]!.data!)).toMatchObject({ code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404, path: 'chat.events' } });
  });

  it('@trpc/client: the error reaches the subscriber as a TRPCClientError NOT_FOUND', async () => {
    const client = createTestClient(server.url);
    const err = await new Promise<unknown>((resolve) => {
      const sub = client.chat.events.subscribe({ messageId: 'no-such-message' }, {
        onData: () => undefined,
        onError: (e) => {
          sub.unsubscribe();
          resolve(e);
        },
      });
    });
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<never>).data).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('@trpc/client through a connection that is cut mid-stream: reconnects with the last id and gets every event once, in order', async () => {
    const direct = createTestClient(server.url);
    await direct.files.uploadPaths.mutate({ paths: ['cats.txt'], user: 'cut' });
    const { messageId } = await startTurn('cut');
    const client = createTestClient(proxy.url);
    const connectionsBefore = proxy.connections();
    const seen: StreamEvent[] = [];
    let cut = false;
    await new Promise<void>((resolve, reject) => {
      const sub = client.chat.events.subscribe({ messageId, user: 'cut' }, {
        onData(tracked) {
          expect(tracked.id).toBe(tracked.data.id);
          seen.push(tracked.data);
          if (!cut && seen.length === 3) {
            cut = true;
            proxy.cutAll();
          }
          if (tracked.data.event === 'message_end') {
            sub.unsubscribe();
            resolve();
          }
        },
        onError: reject,
      });
    });
    expect(cut).toBe(true);
    // It did reconnect (a second connection), and resumed after the last event it had.
    expect(proxy.connections() - connectionsBefore).toBeGreaterThanOrEqual(2);
    expect(seen.map((e) => Number(e.id))).toEqual(seen.map((_, i) => i + 1));
    const stored = await direct.messages.list.query({ conversationId: seen[0]!.conversation_id, user: 'cut' });
    const answer = seen.map((e) => (e.event === 'message' ? e.answer : '')).join('');
    expect(stored.items.at(-1)!.content).toBe(answer);
  });
});

describe('chat.events opened before chat.send (awaitStart: a client-chosen message id)', () => {
  /** Every event of a subscription until message_end, or the error it ends with. */
  const follow = (client: ReturnType<typeof createTestClient>, input: { messageId: string; user: string; awaitStart?: boolean }) =>
    new Promise<StreamEvent[]>((resolve, reject) => {
      const seen: StreamEvent[] = [];
      const sub = client.chat.events.subscribe(input, {
        onData(tracked) {
          seen.push(tracked.data);
          if (tracked.data.event === 'message_end') {
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError(err) {
          sub.unsubscribe();
          reject(err);
        },
      });
    });

  it('waits for the turn its user starts, then streams it whole', async () => {
    const client = createTestClient(server.url);
    await client.files.uploadPaths.mutate({ paths: ['cats.txt'], user: 'early' });
    const messageId = randomUUID();
    const events = follow(client, { messageId, user: 'early', awaitStart: true });
    // The subscription is in before the turn exists.
    await new Promise((r) => setTimeout(r, 300));
    const started = await client.chat.send.mutate({ user: 'early', query: 'How long do cats sleep?', files: ['cats.txt'], messageId });
    expect(started.messageId).toBe(messageId);
    const seen = await events;
    expect(seen.map((e) => Number(e.id))).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)).toMatchObject({ event: 'message_end', message_id: messageId, status: 'complete' });
  });

  it('NOT_FOUND after the bounded wait: a never-started id, and another user\'s turn alike (not woken by it)', async () => {
    const client = createTestClient(server.url);
    const never = randomUUID();
    const foreign = randomUUID();
    const t0 = Date.now();
    const results = Promise.allSettled([
      follow(client, { messageId: never, user: 'waiter', awaitStart: true }),
      follow(client, { messageId: foreign, user: 'waiter', awaitStart: true }),
    ]);
    // Another user starts a turn with the id the waiter asked for.
    await new Promise((r) => setTimeout(r, 200));
    await client.chat.send.mutate({ user: 'someone-else', query: 'hello', messageId: foreign });
    const [a, b] = await results;
    const elapsed = Date.now() - t0;
    for (const r of [a, b]) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as TRPCClientError<never>;
      expect(err).toBeInstanceOf(TRPCClientError);
      expect(err.data).toMatchObject({ code: 'NOT_FOUND' });
      expect(err.message).toBe('Message not found');
    }
    // Both waited (the foreign one was not answered sooner, which would tell that the id exists).
    expect(elapsed).toBeGreaterThanOrEqual(4_000);
  });

  it('without awaitStart an unknown id is NOT_FOUND at once, as before', async () => {
    const client = createTestClient(server.url);
    const t0 = Date.now();
    await expect(follow(client, { messageId: randomUUID(), user: 'waiter' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect(Date.now() - t0).toBeLessThan(4_000);
  });
});
