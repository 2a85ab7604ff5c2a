/**
 * Several instances, no sticky sessions: two real server processes on one PostgreSQL schema and
 * one Redis prefix, each with a DATA_DIR of its own (they share no disk), driven through their
 * public surfaces (REST, tRPC, WebSocket) as a round-robin proxy would spread a client's requests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPostgresSchema,
  dropPostgresSchema,
  dropRedisPrefix,
  freshPostgresSchema,
  freshRedisPrefix,
  DIFY_KEY,
  openaiAnswer,
  OPENAI_KEY,
  OPENAI_MODEL,
  postgresUrlWithSchema,
  serviceAvailable,
  startFakeDify,
  startFakeOpenAI,
  startServerProcess,
  testServices,
  waitFor,
  type FakeDify,
  type FakeOpenAI,
  type ServerProcess,
} from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids, openNdjson, reattach, textOf } from './support/multi-instance.ts';
import { connectPresence } from './support/presence-helpers.ts';
import { createTestClient } from './support/trpc-client.ts';
import { closed, frameOf, openSocket, publishAt, wsUrl } from './support/video-helpers.ts';
import { requestJson } from './support/test-server.ts';

const { postgres, redis } = await testServices();
const runs =
  serviceAvailable(postgres, 'PostgreSQL', 'server: two instances on PostgreSQL + Redis') &&
  serviceAvailable(redis, 'Redis', 'server: two instances on PostgreSQL + Redis');

const KEYS = {
  alice: 'alice-key-0123456789abcdef',
  bob: 'bob-key-0123456789abcdef00',
  rater: 'rater-key-0123456789abcdef',
  carl: 'carl-key-0123456789abcdef0',
  ops: 'ops-key-0123456789abcdef00',
};
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
/** Requests per minute per key: every test's polling stays well under it (the rate test uses a key of its own). */
const RATE_LIMIT = 100;
const LEASE_MS = 3000;
const PRESENCE_TIMEOUT_MS = 3000;

/** A manual long enough that the local agent's answer streams for a few seconds. */
const MANUAL = Array.from(
  { length: 40 },
  (_, i) => `Step ${i + 1}: tighten the valve bolts of pump ${i + 1} before the pressure test, then check the gauge reads zero.`,
).join('\n\n');
const QUERY = 'valve bolts pressure test pump gauge';
/** An upstream answer of 80 deltas, one every 100 ms: still streaming after an instance starts. */
const SLOW_ANSWER = { chunks: openaiAnswer({ deltas: Array.from({ length: 80 }, (_, i) => `word${i} `) }), delayMs: 100 };

describe.runIf(runs)('two instances on one PostgreSQL and one Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-multi-'));
  const inbox = join(dir, 'inbox');
  const schema = freshPostgresSchema();
  const prefix = freshRedisPrefix();
  let upstream: FakeOpenAI;
  let dify: FakeDify;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;

  const start = (name: string) =>
    startServerProcess({ ...env, DATA_DIR: join(dir, name) });

  beforeAll(async () => {
    mkdirSync(inbox, { recursive: true });
    writeFileSync(join(inbox, 'manual.md'), MANUAL);
    await createPostgresSchema(postgres!, schema);
    upstream = await startFakeOpenAI();
    dify = await startFakeDify();
    env = {
      DATABASE_URL: postgresUrlWithSchema(postgres!, schema),
      REDIS_URL: redis!,
      REDIS_PREFIX: prefix,
      UPLOAD_ROOTS: inbox,
      API_KEYS: `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.rater}:rater:user,${KEYS.carl}:carl:user,${KEYS.ops}:ops:admin`,
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      MAX_CONCURRENT_TURNS_PER_USER: '2',
      INSTANCE_LEASE_MS: String(LEASE_MS),
      PRESENCE_TIMEOUT_MS: String(PRESENCE_TIMEOUT_MS),
      LOCAL_AGENT_DELTA_DELAY_MS: '25',
      FLUSH_INTERVAL_MS: '200',
      SHUTDOWN_GRACE_MS: '0',
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_MODEL,
      DIFY_BASE_URL: dify.baseUrl,
      DIFY_API_KEY: DIFY_KEY,
      LOG_LEVEL: 'warn',
    };
    // One after the other: the first migrates the schema.
    a = await start('a');
    b = await start('b');
    for (const user of ['alice', 'bob', 'carl'] as const) {
      const res = await requestJson(`${a.url}/upload_files`, { body: { file_paths: ['manual.md'] }, headers: auth(KEYS[user]) });
      expect(res.status).toBe(200);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await upstream?.close();
    await dify?.close();
    await dropPostgresSchema(postgres!, schema);
    await dropRedisPrefix(redis!, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const converse = (url: string, key: string, extra: object = {}) =>
    openNdjson(`${url}/converse`, { query: QUERY, files: ['manual.md'], response_mode: 'streaming', ...extra }, auth(key));

  it('a turn started on A is re-attached on B with lastEventId: every later event exactly once, in order; a cut stream loses nothing', async () => {
    const onA = await converse(a.url, KEYS.alice);
    const first = await onA.atLeast(8);
    await onA.cut();
    const seen = [...first];
    expect(seen.some((e) => e.event === 'message_end')).toBe(false);
    const messageId = seen[0]!.message_id;
    const last = seen.at(-1)!.id;

    const rest = await reattach(b.url, auth(KEYS.alice), messageId, last);
    const all = [...seen, ...rest];
    expect(ids(all)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(rest.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });

    // A second reader on B from the start, and one on A after the middle: the same events.
    const fromStart = await reattach(b.url, auth(KEYS.alice), messageId, undefined);
    expect(fromStart.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const stored = await createTestClient(b.url, auth(KEYS.alice)).messages.list.query({ conversationId: seen[0]!.conversation_id });
    const answer = stored.items.find((m) => m.id === messageId)!;
    expect(answer.status).toBe('complete');
    expect(textOf(all)).toBe(answer.content);
  });

  it('a reader on B follows a live turn on A as it streams', async () => {
    const client = createTestClient(a.url, auth(KEYS.alice));
    const { messageId } = await client.chat.send.mutate({ query: QUERY, files: ['manual.md'] });
    const live = await reattach(b.url, auth(KEYS.alice), messageId, undefined);
    expect(ids(live)).toEqual(Array.from({ length: live.length }, (_, i) => i + 1));
    expect(live.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    expect(live.length).toBeGreaterThan(10);
  });

  it('stop sent to B closes A’s upstream request and the answer is stored as stopped', async () => {
    upstream.chatScripts.length = 0;
    upstream.chatScripts.push({ chunks: openaiAnswer({ deltas: ['one ', 'two ', 'three '] }).slice(0, 3), stall: 'after-chunks' });
    const before = upstream.chats().length;
    const onA = await converse(a.url, KEYS.alice, { agent: 'openai' });
    await onA.atLeast(2);
    const request = await waitFor(() => upstream.chats()[before]);
    const messageId = onA.events[0]!.message_id;
    const res = await requestJson(`${b.url}/stop_converse`, { body: { message_id: messageId }, headers: auth(KEYS.alice) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message_id: messageId, status: 'stopped' });
    await waitFor(() => request.closedAt !== undefined, 5000);
    expect(request.closedEarly).toBe(true);
    const events = await onA.ended;
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
    upstream.chatScripts.length = 0;
  });

  it('a client connected to A is listed on B, seen joining and leaving by a watcher on B', async () => {
    const onA = createTestClient(a.url, auth(KEYS.alice));
    const onB = createTestClient(b.url, auth(KEYS.alice));
    const watched: string[] = [];
    const watch = onB.clients.watch.subscribe(undefined, {
      onData: (e) => watched.push(e.type === 'snapshot' ? 'snapshot' : `${e.type}:${e.client.id}`),
    });
    await waitFor(() => watched.includes('snapshot'), 10_000);
    const presence = await connectPresence(onA, { clientId: 'laptop-1', kind: 'sdk', name: 'Alice’s laptop' });
    try {
      const listed = await requestJson(`${b.url}/get_client_list`, { headers: auth(KEYS.alice) });
      expect(listed.body).toMatchObject({ count: 1, clients: [{ id: 'laptop-1', name: 'Alice’s laptop', kind: 'sdk' }] });
      // A heartbeat that lands on B keeps the client held by A.
      expect(await onB.clients.heartbeat.mutate({ clientId: 'laptop-1' })).toMatchObject({ clientId: 'laptop-1' });
      await waitFor(() => watched.includes('joined:laptop-1'), 5000);
    } finally {
      presence.close();
    }
    await waitFor(async () => (await onB.clients.list.query()).count === 0, 5000, 100);
    await waitFor(() => watched.includes('left:laptop-1'), 5000);
    watch.unsubscribe();
  });

  it('video published on A is drawn for a viewer on B', async () => {
    const publisher = await openSocket(wsUrl(a.url, { role: 'publish', clientId: 'cam-1', token: KEYS.alice }));
    try {
      await publishAt(publisher.ws, 20, 5, (i) => frameOf(i, 2048));
      const viewer = await openSocket(wsUrl(b.url, { role: 'watch', clientId: 'cam-1', token: KEYS.alice }));
      expect(viewer.first).toMatchObject({ type: 'hello', clientId: 'cam-1', publishing: true });
      // The latest frame at once (re-sent by A), then every new one.
      await waitFor(() => viewer.frames.length >= 1, 5000);
      await publishAt(publisher.ws, 20, 30, (i) => frameOf(100 + i, 2048));
      await waitFor(() => viewer.frames.some((f) => f.index >= 120), 5000);
      const indexes = viewer.frames.map((f) => f.index);
      expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
      publisher.ws.close();
      const ending = await closed(viewer.ws);
      expect(viewer.texts.some((t) => t.type === 'ended') || ending.code === 4410).toBe(true);
    } finally {
      publisher.ws.terminate();
    }
  });

  it('the per-user generation limit and the rate limit hold across the two', async () => {
    const slowTurn = (url: string) => createTestClient(url, auth(KEYS.bob)).chat.send.mutate({ query: QUERY, files: ['manual.md'] });
    await slowTurn(a.url);
    await slowTurn(b.url);
    for (const url of [a.url, b.url]) {
      const refused = await requestJson(`${url}/converse`, { body: { query: QUERY, response_mode: 'blocking' }, headers: auth(KEYS.bob) });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
    }

    let accepted = 0;
    let refusedAt = -1;
    for (let i = 0; i < RATE_LIMIT + 5 && refusedAt < 0; i++) {
      const res = await requestJson(`${i % 2 === 0 ? a.url : b.url}/get_conversation_list`, { headers: auth(KEYS.rater) });
      if (res.status === 200) accepted += 1;
      else if (res.status === 429) refusedAt = i;
    }
    expect(accepted).toBe(RATE_LIMIT);
    expect(refusedAt).toBe(RATE_LIMIT);
  });

  it('starting a third instance leaves A’s live turn streaming', async () => {
    // An answer that streams until it is stopped: however long C takes to start, A's turn is live.
    upstream.chatScripts.splice(0, upstream.chatScripts.length, { chunks: openaiAnswer({ deltas: ['one ', 'two ', 'three '] }).slice(0, 4), stall: 'after-chunks' });
    const onA = await converse(a.url, KEYS.alice, { agent: 'openai' });
    await onA.atLeast(3);
    const messageId = onA.events[0]!.message_id;
    const c = await start('c');
    try {
      const ops = createTestClient(c.url, auth(KEYS.ops));
      const messages = await ops.messages.list.query({ conversationId: onA.events[0]!.conversation_id });
      expect(messages.items.find((m) => m.id === messageId)?.status).toBe('streaming');
      expect(c.output()).not.toMatch(/interrupted/);
      // Still A's live turn: C can stop it (through Redis), as any instance can.
      const stop = await requestJson(`${c.url}/stop_converse`, { body: { message_id: messageId }, headers: auth(KEYS.alice) });
      expect(stop.body).toMatchObject({ status: 'stopped' });
      const events = await onA.ended;
      expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
      expect(ids(events)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    } finally {
      expect(await c.stop()).toBe(0);
    }
    upstream.chatScripts.length = 0;
  });

  it('a file uploaded on A is usable on B, bytes included (Dify uploads it from B): contents live in the database', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('Pumps need their valves checked yearly.\n')], { type: 'text/plain' }), 'pumps.txt');
    const uploaded = await fetch(`${a.url}/files`, { method: 'POST', body: form, headers: auth(KEYS.alice) });
    expect(uploaded.status).toBe(200);
    const fileId = ((await uploaded.json()) as { response: { id: string }[] }).response[0]!.id;
    const answer = await requestJson(`${b.url}/converse`, {
      body: { query: 'How often are valves checked?', files: [fileId], agent: 'dify', response_mode: 'blocking' },
      headers: auth(KEYS.alice),
    });
    expect(answer.status).toBe(200);
    expect(dify.uploads.at(-1)).toMatchObject({ fileName: 'pumps.txt', content: 'Pumps need their valves checked yearly.\n' });
  });

  // Last: A does not come back.
  it('kill -9 of A mid-stream: its answer becomes interrupted with the partial text kept, its clients leave, its slots come back', async () => {
    const carlOnA = createTestClient(a.url, auth(KEYS.carl));
    const carlOnB = createTestClient(b.url, auth(KEYS.carl));
    const presence = await connectPresence(carlOnA, { clientId: 'carl-phone' });
    presence.startHeartbeats();
    upstream.chatScripts.splice(0, upstream.chatScripts.length, SLOW_ANSWER);
    const onA = await converse(a.url, KEYS.carl, { agent: 'openai' });
    await carlOnA.chat.send.mutate({ query: QUERY, agent: 'openai' });
    await onA.atLeast(20);
    // Carl holds both of his slots; a reader on B follows the first turn live.
    expect((await requestJson(`${b.url}/converse`, { body: { query: 'x' }, headers: auth(KEYS.carl) })).status).toBe(429);
    const messageId = onA.events[0]!.message_id;
    const following = reattach(b.url, auth(KEYS.carl), messageId, onA.events.at(-1)!.id);
    expect((await carlOnB.clients.list.query()).clients.map((c) => c.id)).toEqual(['carl-phone']);
    await new Promise((r) => setTimeout(r, 300)); // past a flush

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    presence.close();
    const seenOnA = await onA.ended;

    const ended = await following;
    expect(ended.at(-1)).toMatchObject({ event: 'message_end', status: 'interrupted' });
    const message = (await carlOnB.messages.list.query({ conversationId: onA.events[0]!.conversation_id })).items.find((m) => m.id === messageId)!;
    expect(message.status).toBe('interrupted');
    expect(message.content.length).toBeGreaterThan(0);
    expect(textOf(seenOnA).startsWith(message.content)).toBe(true);
    // Noticed by B's lease check (the same machine: A's process is gone), well within the lease.
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 2000);

    await waitFor(async () => (await carlOnB.clients.list.query()).count === 0, PRESENCE_TIMEOUT_MS + 2000, 250);
    await waitFor(async () => {
      const res = await requestJson(`${b.url}/converse`, { body: { query: 'hello again', response_mode: 'blocking' }, headers: auth(KEYS.carl) });
      return res.status === 200;
    }, LEASE_MS * 2 + 2000, 500);
  });
});
