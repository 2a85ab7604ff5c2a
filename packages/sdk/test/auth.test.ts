/**
 * The SDK against a real server with API keys: 401, 403 and 429 answers come out as the typed
 * errors (UnauthorizedError, ForbiddenError, RateLimitError with retryAfterMs), on calls and on
 * streams; a user key's client never sees another user's records (NotFoundError, exactly as for
 * a missing one); an admin key's client sees everything and acts for users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  createClient,
  ForbiddenError,
  NotFoundError,
  RateLimitError,
  UnauthorizedError,
  type ColloquyClient,
} from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const KEYS = { alice: 'sdk-alice-key-0000001', bob: 'sdk-bob-key-000000002', ops: 'sdk-ops-admin-key-003' };
const API_KEYS = `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.ops}:ops:admin`;

describe('with API keys', () => {
  let fx: SdkFixture;
  let alice: ColloquyClient;
  let bob: ColloquyClient;
  let ops: ColloquyClient;
  const client = (apiKey: string | undefined, extra: { user?: string; maxRetries?: number } = {}) =>
    createClient({ baseUrl: fx.proxy.url, apiKey, presence: false, ...extra });

  /** Alice's records, for Bob to try. */
  const hers = { conversationId: '', messageId: '', fileId: '' };

  beforeAll(async () => {
    fx = await startSdkFixture({ API_KEYS });
    alice = client(KEYS.alice);
    bob = client(KEYS.bob);
    ops = client(KEYS.ops);
    const [file] = await alice.files.uploadPaths(['cats.txt']);
    hers.fileId = file!.id;
    const answer = await alice.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], conversationId: 'sdk-alice-conv' });
    hers.conversationId = answer.conversationId;
    hers.messageId = answer.messageId;
  }, 60_000);
  afterAll(() => fx?.dispose());

  describe('401', () => {
    it.each([
      ['no key', undefined],
      ['a wrong key', 'sdk-wrong-key-00000000'],
    ])('with %s every call is an UnauthorizedError, not retried', async (_name, key) => {
      const c = client(key);
      const before = fx.proxy.connections();
      const err = await c.agents.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err).toMatchObject({ status: 401 });
      // English message; the REST contract's Chinese text stays on the body.
      expect((err as UnauthorizedError).message).toBe('missing or invalid API key');
      expect((err as UnauthorizedError).body).toEqual({ message: '未授权', error: 'missing or invalid API key' });
      expect((err as UnauthorizedError).requestId).toMatch(/^[0-9a-f-]{36}$/);
      // Idempotent calls are retried on 429/5xx only: one request.
      expect(fx.proxy.connections() - before).toBeLessThanOrEqual(1);
      await expect(c.conversations.list()).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(c.converse({ query: 'hi' })).rejects.toBeInstanceOf(UnauthorizedError);
    });

    it('a stream (tRPC over SSE) fails with UnauthorizedError too', async () => {
      const err = await client('sdk-wrong-key-00000000').resume(hers.messageId).final().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err).toMatchObject({ status: 401 });
    });
  });

  describe("Bob's client against Alice's records: NotFoundError, as for missing ones", () => {
    const rows: [string, (c: ColloquyClient, t: typeof hers) => Promise<unknown>][] = [
      ['conversations.get', (c, t) => c.conversations.get(t.conversationId)],
      ['conversations.rename', (c, t) => c.conversations.rename(t.conversationId, 'mine now')],
      ['conversations.delete', (c, t) => c.conversations.delete(t.conversationId)],
      ['messages.list', (c, t) => c.messages.list(t.conversationId)],
      ['files.get', (c, t) => c.files.get(t.fileId)],
      ['files.delete', (c, t) => c.files.delete(t.fileId)],
      ['resume (re-attach to the stream)', (c, t) => c.resume(t.messageId).final()],
    ];
    const missing = { conversationId: 'sdk-missing-conv', messageId: 'sdk-missing-message', fileId: 'sdk-missing-file' };

    it.each(rows)('%s', async (_name, call) => {
      const theirs = await call(bob, hers).catch((e: unknown) => e);
      expect(theirs).toBeInstanceOf(NotFoundError);
      const absent = await call(bob, missing).catch((e: unknown) => e);
      expect(absent).toBeInstanceOf(NotFoundError);
      expect((theirs as Error).message).toBe((absent as Error).message);
      // Alice's records are untouched.
      expect((await alice.conversations.get(hers.conversationId)).name).not.toBe('mine now');
      expect((await alice.files.get(hers.fileId)).id).toBe(hers.fileId);
    });

    it("attaching Alice's file (by id or path) is refused exactly like a file that does not exist", async () => {
      const byId = await bob.converse({ query: 'read it', files: [hers.fileId] }).catch((e: unknown) => e);
      const byPath = await bob.converse({ query: 'read it', files: ['cats.txt'] }).catch((e: unknown) => e);
      const missingFile = await bob.converse({ query: 'read it', files: [missing.fileId] }).catch((e: unknown) => e);
      for (const err of [byId, byPath, missingFile]) expect(err).toBeInstanceOf(BadRequestError);
      expect((byId as Error).message.replace(hers.fileId, '<ref>')).toBe((missingFile as Error).message.replace(missing.fileId, '<ref>'));
    });

    it("continuing under Alice's conversation id starts a conversation of Bob's own, as a missing id does", async () => {
      // Conversation ids are per user: nothing tells Bob that Alice has one of that id.
      const answer = await bob.converse({ query: 'what was said here?', conversationId: hers.conversationId });
      expect(answer.conversationId).toBe(hers.conversationId);
      expect(answer.answer).not.toMatch(/cat/i);
      const streamed = await bob.stream({ query: 'and now?', conversationId: hers.conversationId }).final();
      expect(streamed.conversationId).toBe(hers.conversationId);
      expect((await bob.conversations.get(hers.conversationId)).userId).toBe('bob');
      expect((await bob.messages.list(hers.conversationId)).items.map((m) => m.content)).not.toContain('How long do cats sleep?');
      expect((await alice.messages.list(hers.conversationId)).items).toHaveLength(2);
    });

    it("lists never include Alice's records", async () => {
      expect(new Set((await bob.conversations.list()).items.map((c) => c.userId))).toEqual(new Set(['bob']));
      expect((await bob.files.list()).items.map((f) => f.id)).not.toContain(hers.fileId);
    });
  });

  it('a user key acting for another user is a ForbiddenError; for itself it is fine', async () => {
    const posing = client(KEYS.bob, { user: 'alice' });
    await expect(posing.conversations.list()).rejects.toBeInstanceOf(ForbiddenError);
    await expect(posing.converse({ query: 'hi' })).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect(client(KEYS.bob, { user: 'bob' }).conversations.list()).resolves.toBeDefined();
  });

  it('an admin client sees every user and acts for one', async () => {
    const all = await ops.conversations.list({ limit: 100 });
    expect(all.items.map((c) => c.id)).toContain(hers.conversationId);
    // Bob has a conversation of that id too: naming no user, the admin is asked to name one.
    await expect(ops.messages.list(hers.conversationId)).rejects.toBeInstanceOf(ConflictError);
    expect((await client(KEYS.ops, { user: 'alice' }).messages.list(hers.conversationId)).items).toHaveLength(2);
    expect((await ops.resume(hers.messageId).final()).status).toBe('complete');

    const forAlice = client(KEYS.ops, { user: 'alice' });
    const answer = await forAlice.converse({ query: 'Do cats purr?', files: ['cats.txt'], conversationId: 'sdk-ops-for-alice' });
    expect(answer.answer).toMatch(/purr/);
    expect((await alice.conversations.get('sdk-ops-for-alice')).userId).toBe('alice');
    // Acting for Bob, the id names Bob's conversation, never Alice's.
    expect((await client(KEYS.ops, { user: 'bob' }).conversations.get(hers.conversationId)).userId).toBe('bob');
    await expect(client(KEYS.ops, { user: 'bob' }).conversations.get('sdk-ops-for-alice')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('429 from a real server', () => {
  let fx: SdkFixture;
  const PER_MINUTE = 6;
  beforeAll(async () => {
    fx = await startSdkFixture({
      API_KEYS,
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      MAX_CONCURRENT_TURNS_PER_USER: '1',
      LOCAL_AGENT_DELTA_DELAY_MS: '100',
    });
  }, 60_000);
  afterAll(() => fx?.dispose());

  it('a second concurrent generation of the same user is a RateLimitError with retryAfterMs', async () => {
    const alice = createClient({ baseUrl: fx.proxy.url, apiKey: KEYS.alice, presence: false, maxRetries: 0 });
    await alice.files.uploadPaths(['engines.md']);
    const running = alice.stream({ query: 'tell me about the rocket engines', files: ['engines.md'] });
    const messageId = await running.messageId;
    const err = await alice.converse({ query: 'and another thing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect((err as RateLimitError).retryAfterMs).toBeGreaterThan(0);
    expect(await running.stop()).toBe('stopped');
    expect(messageId).toBeTruthy();
  });

  it('the key over its requests per minute gets a RateLimitError with retryAfterMs from Retry-After', async () => {
    const bob = createClient({ baseUrl: fx.proxy.url, apiKey: KEYS.bob, presence: false, maxRetries: 0, maxReconnects: 0 });
    for (let i = 0; i < PER_MINUTE; i++) await bob.conversations.list();
    const err = await bob.conversations.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).message).toContain('rate limit of 6 requests per minute exceeded');
    expect((err as RateLimitError).body).toMatchObject({ message: '请求过于频繁' });
    const wait = (err as RateLimitError).retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60_000);
    // Streams hit the same limit.
    await expect(bob.resume('any-message').final()).rejects.toBeInstanceOf(RateLimitError);
  });
});
