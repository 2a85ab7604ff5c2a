import { randomUUID } from 'node:crypto';
import { httpResponse } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ColloquyError,
  ConnectionError,
  createClient,
  NotFoundError,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  type ColloquyClient,
  type StreamEvent,
} from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

let fx: SdkFixture;
let client: ColloquyClient;

beforeAll(async () => {
  fx = await startSdkFixture();
  // No presence connection: these tests count the proxy's connections (presence has its own tests).
  client = createClient({ baseUrl: fx.proxy.url, user: 'sdk-user', presence: false });
});
afterAll(() => fx?.dispose());

const textOf = (events: StreamEvent[]) => events.map((e) => (e.event === 'message' ? e.answer : '')).join('');

describe('calls', () => {
  it('uploads, lists, gets and deletes files', async () => {
    const files = await client.files.uploadPaths(['engines.md', 'cats.txt']);
    expect(files.map((f) => [f.name, f.userId])).toEqual([
      ['engines.md', 'sdk-user'],
      ['cats.txt', 'sdk-user'],
    ]);
    // Idempotent: the same path and content give the same record.
    expect((await client.files.uploadPaths(['cats.txt']))[0]?.id).toBe(files[1]?.id);
    const page = await client.files.list();
    expect(page.items.map((f) => f.id).sort()).toEqual(files.map((f) => f.id).sort());
    expect(await client.files.get(files[0]!.id)).toMatchObject({ name: 'engines.md', hasText: true });
    // Another user's file is invisible: 404, as if it did not exist.
    const other = createClient({ baseUrl: fx.proxy.url, user: 'other', presence: false });
    const [theirs] = await other.files.uploadPaths(['cats.txt']);
    await expect(client.files.get(theirs!.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.files.delete(theirs!.id)).rejects.toBeInstanceOf(NotFoundError);
    await other.files.delete(theirs!.id);
    await expect(other.files.get(theirs!.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('converses, then manages the conversation', async () => {
    const answer = await client.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], managerId: 'm-7' });
    expect(answer).toMatchObject({ status: 'complete', citations: [expect.objectContaining({ fileName: 'cats.txt' })] });
    expect(answer.answer).toContain('sixteen hours');
    expect(answer.usage?.totalTokens).toBeGreaterThan(0);

    const conversation = await client.conversations.get(answer.conversationId);
    expect(conversation).toMatchObject({ userId: 'sdk-user', managerId: 'm-7' });
    expect((await client.conversations.list({ managerId: 'm-7' })).items.map((c) => c.id)).toEqual([answer.conversationId]);
    const messages = await client.messages.list(answer.conversationId);
    expect(messages.items.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages.items[1]?.content).toBe(answer.answer);

    expect((await client.conversations.rename(answer.conversationId, 'Cats')).name).toBe('Cats');
    await client.conversations.delete(answer.conversationId);
    await expect(client.conversations.get(answer.conversationId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('iterates every page of conversations', async () => {
    const pager = createClient({ baseUrl: fx.proxy.url, user: 'pager', presence: false });
    for (let i = 0; i < 5; i++) await pager.converse({ query: `q${i}`, conversationId: `sdk-pg-${i}` });
    const first = await pager.conversations.list({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const all: string[] = [];
    for await (const c of pager.conversations.iterate({ limit: 2 })) all.push(c.id);
    expect(all).toEqual(['sdk-pg-4', 'sdk-pg-3', 'sdk-pg-2', 'sdk-pg-1', 'sdk-pg-0']);
  });

  it('lists agents', async () => {
    expect(await client.agents.list()).toEqual([expect.objectContaining({ id: 'local', isDefault: true, reachable: true })]);
  });
});

describe('streams', () => {
  it('a stream read to the end equals final() and the stored message', async () => {
    const stream = client.stream({ query: 'What does the rocket engine burn?', files: ['engines.md'] });
    const events: StreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    const final = await stream.final();
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    expect(final).toMatchObject({ status: 'complete', answer: textOf(events), messageId: await stream.messageId });
    expect(final.citations.length).toBeGreaterThan(0);
    const stored = await client.messages.list(await stream.conversationId);
    expect(stored.items.at(-1)).toMatchObject({ id: final.messageId, content: final.answer, status: 'complete' });
  });

  it('final() works without iterating', async () => {
    const stream = client.stream({ query: 'turbopump', files: ['engines.md'] });
    const final = await stream.final();
    expect(final.status).toBe('complete');
    expect(final.answer.length).toBeGreaterThan(0);
  });

  it('break stops listening while the message still completes on the server', async () => {
    const stream = client.stream({ query: 'liquid hydrogen oxygen combustion chamber', files: ['engines.md'] });
    let seen = 0;
    for await (const ev of stream) {
      if (ev.event === 'message') seen += 1;
      if (seen === 3) break;
    }
    await expect(stream.final()).rejects.toMatchObject({ code: 'ABORTED' });
    const messageId = await stream.messageId;
    const resumed = await client.resume(messageId).final();
    expect(resumed.status).toBe('complete');
    const stored = await client.messages.list(await stream.conversationId);
    expect(stored.items.at(-1)).toMatchObject({ id: messageId, status: 'complete', content: resumed.answer });
  });

  it('stop() cancels the generation: the stream ends stopped with the partial text', async () => {
    const stream = client.stream({ query: 'engine number propellant thrust', files: ['engines.md'] });
    const events: StreamEvent[] = [];
    let stopped: Promise<string> | undefined;
    for await (const ev of stream) {
      events.push(ev);
      if (events.length === 3) stopped = stream.stop();
    }
    expect(await stopped).toBe('stopped');
    const final = await stream.final();
    expect(final.status).toBe('stopped');
    expect(final.answer).toBe(textOf(events));
    const stored = await client.messages.list(final.conversationId);
    expect(stored.items.at(-1)).toMatchObject({ status: 'stopped', content: final.answer });
  });

  it('killing the connection mid-stream: every event still arrives exactly once, in order', async () => {
    const stream = client.stream({ query: 'Explain the turbopump and the combustion chamber', files: ['engines.md'] });
    const events: StreamEvent[] = [];
    let cuts = 0;
    for await (const ev of stream) {
      events.push(ev);
      // Destroy the sockets twice, at different points.
      if (events.length === 4 || events.length === 15) {
        fx.proxy.cutAll();
        cuts += 1;
      }
    }
    expect(cuts).toBe(2);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const final = await stream.final();
    expect(final.status).toBe('complete');
    const stored = await client.messages.list(final.conversationId);
    expect(stored.items.at(-1)?.content).toBe(textOf(events));
  });

  it('resume() re-attaches after a given event id', async () => {
    const first = client.stream({ query: 'orbital rocket', files: ['engines.md'] });
    const all: StreamEvent[] = [];
    for await (const ev of first) all.push(ev);
    const rest: StreamEvent[] = [];
    for await (const ev of client.resume(await first.messageId, { lastEventId: all[4]!.id })) rest.push(ev);
    expect(rest).toEqual(all.slice(5));
  });

  it('resume(id, { lastEventId }).final() is the complete stored answer, not the text after lastEventId', async () => {
    const first = client.stream({ query: 'Explain the orbital rocket engines and their turbopumps', files: ['engines.md'] });
    const seen: StreamEvent[] = [];
    for await (const ev of first) {
      seen.push(ev);
      if (seen.length === 6) break; // a client that went away mid-answer
    }
    const messageId = await first.messageId;
    const lastEventId = seen.at(-1)!.id;
    // Re-attached while the answer is still being written, and again after it has ended.
    for (const resumed of [client.resume(messageId, { lastEventId }), client.resume(messageId, { lastEventId })]) {
      const rest: StreamEvent[] = [];
      for await (const ev of resumed) rest.push(ev);
      expect(Number(rest[0]!.id)).toBe(Number(lastEventId) + 1);
      const final = await resumed.final();
      const stored = (await client.messages.list(final.conversationId)).items.find((m) => m.id === messageId);
      expect(stored).toMatchObject({ status: 'complete' });
      expect(final.answer).toBe(stored!.content);
      expect(final.answer).toBe(textOf(seen) + textOf(rest));
      expect(final.answer.length).toBeGreaterThan(textOf(rest).length);
    }
    // Resuming after the very last event yields nothing, and final() is still the whole answer.
    const end = client.resume(messageId, { lastEventId: seen.length > 0 ? '100000' : '0' });
    const none: StreamEvent[] = [];
    for await (const ev of end) none.push(ev);
    expect(none).toEqual([]);
    expect((await end.final()).answer.length).toBeGreaterThan(0);
  });
});

describe('errors and retries', () => {
  it('maps 400 and 404 to typed errors', async () => {
    const err = await client.converse({ query: '   ' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await expect(client.conversations.get('no-such-conversation')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(client.resume('no-such-message').final()).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.stream({ query: 'x', files: ['missing.txt'] }).final()).rejects.toBeInstanceOf(BadRequestError);
  });

  it('maps a 401 response to UnauthorizedError without retrying it', async () => {
    // A gateway in front of the server answers 401 (a real server's 401s: auth.test.ts).
    await fx.proxy.failNext(1, httpResponse(401, JSON.stringify({ message: 'Unauthorized', error: 'missing API key' })));
    const before = fx.proxy.connections();
    await expect(client.agents.list()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(fx.proxy.connections() - before).toBe(1);
  });

  it('retries an idempotent call that fails twice, then succeeds', async () => {
    await fx.proxy.failNext(2, httpResponse(503, JSON.stringify({ message: 'busy', error: 'try again' })));
    const before = fx.proxy.connections();
    const agents = await client.agents.list();
    expect(agents[0]?.id).toBe('local');
    expect(fx.proxy.connections() - before).toBe(3);
  });

  it('gives up after maxRetries with a ServerError, and honours Retry-After on 429', async () => {
    const strict = createClient({ baseUrl: fx.proxy.url, maxRetries: 1, presence: false });
    await fx.proxy.failNext(2, httpResponse(502, JSON.stringify({ message: 'bad gateway', error: 'upstream' })));
    await expect(strict.agents.list()).rejects.toBeInstanceOf(ServerError);

    await fx.proxy.failNext(1, httpResponse(429, JSON.stringify({ message: 'slow down', error: 'rate' }), { 'Retry-After': '1' }));
    const started = Date.now();
    await strict.agents.list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const noRetry = createClient({ baseUrl: fx.proxy.url, maxRetries: 0, presence: false });
    await fx.proxy.failNext(1, httpResponse(429, JSON.stringify({ message: 'slow down', error: 'rate' }), { 'Retry-After': '7' }));
    const err = await noRetry.agents.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfterMs).toBe(7000);
  });

  it('retries a turn that never reached the server (503 from a gateway), with the same message id', async () => {
    await fx.proxy.failNext(1, httpResponse(503, JSON.stringify({ message: 'busy', error: 'x' })));
    const before = fx.proxy.connections();
    const messageId = randomUUID();
    const answer = await client.converse({ query: 'hello', newConversation: true, messageId });
    expect(answer).toMatchObject({ messageId, status: 'complete' });
    expect(fx.proxy.connections() - before).toBe(2);
    const none = createClient({ baseUrl: fx.proxy.url, user: 'sdk-user', presence: false, maxRetries: 0 });
    await fx.proxy.failNext(1, httpResponse(503, JSON.stringify({ message: 'busy', error: 'x' })));
    await expect(none.converse({ query: 'hello' })).rejects.toBeInstanceOf(ServerError);
  });

  it('a turn whose answer was lost is followed, not started twice: converse and stream', async () => {
    // The server starts the turn, but the connection dies before its answer arrives.
    await fx.proxy.loseNextResponses(1);
    const before = fx.proxy.connections();
    const answer = await client.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], newConversation: true });
    // The lost try, the retry refused as a conflict, and the stream that followed the turn.
    expect(fx.proxy.connections() - before).toBeGreaterThanOrEqual(2);
    expect(answer.status).toBe('complete');
    expect(answer.answer).toContain('sixteen hours');
    const messages = await client.messages.list(answer.conversationId);
    expect(messages.items.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages.items[1]).toMatchObject({ id: answer.messageId, content: answer.answer });

    await fx.proxy.loseNextResponses(1);
    const stream = client.stream({ query: 'Do cats purr?', files: ['cats.txt'], conversationId: answer.conversationId });
    const events: StreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    expect(events[0]?.id).toBe('1');
    const final = await stream.final();
    expect(final.answer).toBe(textOf(events));
    expect((await client.messages.list(answer.conversationId)).items).toHaveLength(4);
  });

  it('reports a refused connection as ConnectionError', async () => {
    const dead = createClient({ baseUrl: 'http://127.0.0.1:9', maxRetries: 0, presence: false });
    const err = await dead.agents.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toBeInstanceOf(ColloquyError);
  });
});
