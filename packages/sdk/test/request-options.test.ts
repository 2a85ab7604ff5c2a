/**
 * Per-call request options ({ signal, timeoutMs, maxRetries, headers }) on every method,
 * TimeoutError and AbortError told apart and carrying the turn's ids, withResponse(), and
 * iterate() for every list — against a real server process behind a TCP proxy.
 */
import { randomUUID } from 'node:crypto';
import { httpResponse } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  ColloquyError,
  ConnectionError,
  createClient,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  type ColloquyClient,
  type RequestOptions,
  type StreamEvent,
} from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

let fx: SdkFixture;
let client: ColloquyClient;
const LONG_QUERY = 'Explain every orbital rocket engine, its turbopump, the combustion chamber and the propellant';

beforeAll(async () => {
  fx = await startSdkFixture();
  client = createClient({ baseUrl: fx.proxy.url, user: 'options-user' });
  await client.files.uploadPaths(['engines.md', 'cats.txt']);
});
afterAll(() => fx?.dispose());

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('timeoutMs', () => {
  it('bounds the whole call, Retry-After waits included: a wait past the deadline is not begun', async () => {
    await fx.proxy.failNext(1, httpResponse(429, JSON.stringify({ message: '请求过于频繁', error: 'slow down' }), { 'Retry-After': '30' }));
    const started = Date.now();
    const err = await errorOf(client.agents.list({ timeoutMs: 2000 }));
    // It did not sit out the 30 s the server asked for: the call's budget was 2 s.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ retryAfterMs: 30_000, message: 'slow down' });
  });

  it('a call that runs past it is a TimeoutError (code TIMEOUT), not a ConnectionError about an abort', async () => {
    const err = await errorOf(client.converse({ query: LONG_QUERY, files: ['engines.md'], newConversation: true }, { timeoutMs: 150 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT', status: 0, message: 'The call timed out after 150 ms' });
    // The turn went on: the error says which, so it can be followed to its end.
    const { messageId, conversationId } = err as TimeoutError;
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(conversationId).toMatch(/^[0-9a-f-]{36}$/);
    const answer = await client.resume(messageId!).final();
    expect(answer).toMatchObject({ messageId, conversationId, status: 'complete' });
  });

  it('the client-wide timeoutMs applies to calls; a per-call one overrides it', async () => {
    const hasty = createClient({ baseUrl: fx.proxy.url, user: 'options-user', timeoutMs: 100 });
    await expect(hasty.converse({ query: LONG_QUERY, files: ['engines.md'] })).rejects.toBeInstanceOf(TimeoutError);
    const answer = await hasty.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], newConversation: true }, { timeoutMs: 30_000 });
    expect(answer.status).toBe('complete');
  });

  it('bounds a whole stream when given to stream(); the turn can be stopped by the id on the error', async () => {
    const stream = client.stream({ query: LONG_QUERY, files: ['engines.md'], newConversation: true }, { timeoutMs: 400 });
    const events: StreamEvent[] = [];
    const err = await errorOf(
      (async () => {
        for await (const ev of stream) events.push(ev);
      })(),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect(events.length).toBeGreaterThan(0);
    const { messageId, conversationId } = err as TimeoutError;
    expect(messageId).toBe(await stream.messageId.catch(() => messageId));
    expect(conversationId).toBe(events[0]!.conversationId);
    await expect(stream.final()).rejects.toBeInstanceOf(TimeoutError);
    expect((await client.stop(messageId!)).status).toMatch(/^(stopped|complete)$/);
  });
});

describe('signal', () => {
  it('aborting a call is an AbortError (code ABORTED) carrying the turn ids', async () => {
    const controller = new AbortController();
    const call = client.converse({ query: LONG_QUERY, files: ['engines.md'], newConversation: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const err = await errorOf(call);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).not.toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'ABORTED', status: 0 });
    const { messageId } = err as AbortError;
    // The server had started the turn: stop it by its id.
    expect(await client.stop(messageId!)).toMatchObject({ messageId, status: 'stopped' });
  });

  it('a stream aborted before its first event: final() rejects with the ids of the turn it started', async () => {
    const controller = new AbortController();
    const stream = client.stream({ query: LONG_QUERY, files: ['engines.md'], newConversation: true }, { signal: controller.signal });
    const messageId = await stream.messageId;
    controller.abort();
    const err = await errorOf(stream.final());
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ code: 'ABORTED', messageId, conversationId: await stream.conversationId.catch(() => (err as AbortError).conversationId) });
    expect((err as AbortError).conversationId).toMatch(/^[0-9a-f-]{36}$/);
    // Iterating an aborted stream ends quietly (as after `break`).
    const after: StreamEvent[] = [];
    for await (const ev of stream) after.push(ev);
    // The generation goes on server-side, and is resumable from the start.
    const resumed = await client.resume(messageId).final();
    expect(resumed).toMatchObject({ messageId, status: 'complete', conversationId: (err as AbortError).conversationId });
  });

  it('an already aborted signal fails every method at once, without a request', async () => {
    const signal = AbortSignal.abort();
    const o: RequestOptions = { signal };
    const before = fx.proxy.connections();
    const calls: [string, () => Promise<unknown>][] = [
      ['conversations.list', () => client.conversations.list({}, o)],
      ['conversations.iterate', async () => {
        for await (const _ of client.conversations.iterate({}, o)) void _;
      }],
      ['conversations.get', () => client.conversations.get('x', o)],
      ['conversations.rename', () => client.conversations.rename('x', 'y', o)],
      ['conversations.delete', () => client.conversations.delete('x', o)],
      ['messages.list', () => client.messages.list('x', {}, o)],
      ['messages.iterate', async () => {
        for await (const _ of client.messages.iterate('x', {}, o)) void _;
      }],
      ['files.uploadPaths', () => client.files.uploadPaths(['cats.txt'], o)],
      ['files.upload', () => client.files.upload(new Blob(['x']), { ...o, name: 'x.txt' })],
      ['files.list', () => client.files.list({}, o)],
      ['files.iterate', async () => {
        for await (const _ of client.files.iterate({}, o)) void _;
      }],
      ['files.get', () => client.files.get('x', o)],
      ['files.delete', () => client.files.delete('x', o)],
      ['agents.list', () => client.agents.list(o)],
      ['converse', () => client.converse({ query: 'x' }, o)],
      ['stream', () => client.stream({ query: 'x' }, o).final()],
      ['resume', () => client.resume('x', o).final()],
      ['stop', () => client.stop('x', o)],
      ['clients.list', () => client.clients.list(o)],
    ];
    for (const [name, run] of calls) {
      const err = await errorOf(run());
      expect(err, name).toBeInstanceOf(AbortError);
    }
    expect(fx.proxy.connections() - before).toBe(0);
  });
});

describe('maxRetries', () => {
  it('per call, over the client’s', async () => {
    const patient = createClient({ baseUrl: fx.proxy.url, maxRetries: 0 });
    await fx.proxy.failNext(2, httpResponse(503, JSON.stringify({ message: 'busy', error: 'try again' })));
    const before = fx.proxy.connections();
    expect((await patient.agents.list({ maxRetries: 2 }))[0]?.id).toBe('local');
    expect(fx.proxy.connections() - before).toBe(3);

    await fx.proxy.failNext(1, httpResponse(503, JSON.stringify({ message: 'busy', error: 'try again' })));
    await expect(client.agents.list({ maxRetries: 0 })).rejects.toBeInstanceOf(ServerError);
  });
});

describe('headers', () => {
  it('per call, on every request the call makes (calls and streams)', async () => {
    // The server answers with the X-Request-Id it was sent: proof the header reached it.
    const { response } = await client.agents.list({ headers: { 'x-request-id': 'trace-agents-1' } }).withResponse();
    expect(response.requestId).toBe('trace-agents-1');
    const missing = await errorOf(client.conversations.get('no-such', { headers: { 'x-request-id': 'trace-get-1' } }));
    expect(missing).toMatchObject({ requestId: 'trace-get-1' });
    const stream = await errorOf(client.resume('no-such-message', { headers: { 'x-request-id': 'trace-resume-1' } }).final());
    expect(stream).toBeInstanceOf(NotFoundError);
    expect(stream).toMatchObject({ requestId: 'trace-resume-1' });
    // Other calls are not affected.
    expect((await client.agents.list().withResponse()).response.requestId).not.toBe('trace-agents-1');
  });
});

describe('withResponse()', () => {
  it('gives the data with the status, headers and request id', async () => {
    const { data, response } = await client.conversations.list({ limit: 1 }).withResponse();
    expect(Array.isArray(data.items)).toBe(true);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // The same promise also resolves to the data alone.
    const p = client.agents.list();
    expect((await p)[0]?.id).toBe('local');
    expect((await p.withResponse()).data).toEqual(await p);
  });

  it('errors carry the request id as well', async () => {
    const err = await errorOf(client.files.get('no-such-file'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as ColloquyError).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('iterate()', () => {
  it('walks every page of messages and of files', async () => {
    const pager = createClient({ baseUrl: fx.proxy.url, user: `pager-${randomUUID()}` });
    const conversationId = `iter-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await pager.converse({ query: `question ${i}`, conversationId });
    const messages: string[] = [];
    for await (const m of pager.messages.iterate(conversationId, { limit: 2 })) messages.push(`${m.role}:${m.content.slice(0, 10)}`);
    expect(messages).toHaveLength(6);
    expect(messages.filter((m) => m.startsWith('user:'))).toEqual(['user:question 0', 'user:question 1', 'user:question 2']);
    expect((await pager.messages.list(conversationId, { limit: 2 })).nextCursor).not.toBeNull();

    const names = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
    for (const name of names) await pager.files.upload(new Blob([`content of ${name}`]), name);
    const files: string[] = [];
    for await (const f of pager.files.iterate({ limit: 2 })) files.push(f.name);
    expect(files.sort()).toEqual(names);
  });
});
