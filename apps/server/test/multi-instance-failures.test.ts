/**
 * Several instances when things fail or are missing: two instances on one PostgreSQL without
 * Redis (a starting instance must not touch another's live turns), Redis restarted under two
 * running instances, and WORKERS=2 on SQLite sharing one port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamEvent } from '@colloquy/api';
import {
  createPostgresSchema,
  dropPostgresSchema,
  dropRedisPrefix,
  freshPostgresSchema,
  freshRedisPrefix,
  requiredInCi,
  openaiAnswer,
  OPENAI_KEY,
  OPENAI_MODEL,
  postgresUrlWithSchema,
  serviceAvailable,
  startFakeOpenAI,
  startServerProcess,
  testServices,
  waitFor,
  type FakeOpenAI,
  type ServerProcess,
} from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids, openNdjson, reattach, textOf } from './support/multi-instance.ts';
import { createTestClient } from './support/trpc-client.ts';
import { requestJson } from './support/test-server.ts';

const { postgres, redis } = await testServices();
const SLOW_ANSWER = { chunks: openaiAnswer({ deltas: Array.from({ length: 60 }, (_, i) => `word${i} `) }), delayMs: 100 };
const FULL_TEXT = Array.from({ length: 60 }, (_, i) => `word${i} `).join('');

function baseEnv(upstream: FakeOpenAI): Record<string, string> {
  return {
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_MODEL,
    DEFAULT_AGENT: 'openai',
    RATE_LIMIT_PER_MINUTE: '0',
    INSTANCE_LEASE_MS: '3000',
    FLUSH_INTERVAL_MS: '200',
    SHUTDOWN_GRACE_MS: '0',
    LOG_LEVEL: 'warn',
  };
}

describe.runIf(serviceAvailable(postgres, 'PostgreSQL', 'server: two instances on PostgreSQL without Redis'))(
  'two instances on one PostgreSQL without Redis',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'colloquy-pg-only-'));
    const schema = freshPostgresSchema();
    let upstream: FakeOpenAI;
    afterAll(async () => {
      await upstream?.close();
      await dropPostgresSchema(postgres!, schema);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a starting instance leaves the other’s live answer streaming; it goes on to its end', async () => {
      await createPostgresSchema(postgres!, schema);
      upstream = await startFakeOpenAI();
      // An answer that streams until it is stopped: however long B takes to start, A's turn is live.
      upstream.chatScripts.push({ chunks: openaiAnswer({ deltas: ['one ', 'two ', 'three '] }).slice(0, 4), stall: 'after-chunks' });
      const env = { ...baseEnv(upstream), DATABASE_URL: postgresUrlWithSchema(postgres!, schema) };
      const a = await startServerProcess({ ...env, DATA_DIR: join(dir, 'a') });
      let b: ServerProcess | undefined;
      try {
        const onA = await openNdjson(`${a.url}/converse`, { query: 'hi', user: 'u', response_mode: 'streaming' });
        await onA.atLeast(3);
        b = await startServerProcess({ ...env, DATA_DIR: join(dir, 'b') });
        const messageId = onA.events[0]!.message_id;
        const onB = createTestClient(b.url);
        const listed = await onB.messages.list.query({ conversationId: onA.events[0]!.conversation_id, user: 'u' });
        expect(listed.items.find((m) => m.id === messageId)?.status).toBe('streaming');
        expect(b.output()).not.toMatch(/interrupted/);
        // A's turn goes on: its own stop ends it as any stop would, with its text kept.
        const stop = await requestJson(`${a.url}/stop_converse`, { body: { message_id: messageId, user: 'u' } });
        expect(stop.body).toMatchObject({ status: 'stopped' });
        const events = await onA.ended;
        expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
        const stored = await onB.messages.list.query({ conversationId: onA.events[0]!.conversation_id, user: 'u' });
        expect(stored.items.find((m) => m.id === messageId)).toMatchObject({ status: 'stopped', content: 'one two three ' });
      } finally {
        await Promise.all([a.stop(), b?.stop()]);
      }
    });
  },
);

/** A private redis-server (the shared one must not be restarted under other engineers' tests). */
async function startPrivateRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(async () => (await tcpAnswers(port)) || undefined, 10_000, 50);
  return child;
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const haveRedisServer = requiredInCi(
  'server: Redis restarted under two instances',
  ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((p) => existsSync(p)) ? undefined : 'no redis-server binary to run a private Redis',
);

describe.runIf(haveRedisServer && serviceAvailable(postgres, 'PostgreSQL', 'server: Redis restarted under two instances'))(
  'Redis restarted under two running instances',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'colloquy-redis-restart-'));
    const schema = freshPostgresSchema();
    let port: number;
    let redisServer: ChildProcess | undefined;
    let upstream: FakeOpenAI;
    let a: ServerProcess;
    let b: ServerProcess;

    beforeAll(async () => {
      port = await freePort();
      redisServer = await startPrivateRedis(port);
      await createPostgresSchema(postgres!, schema);
      upstream = await startFakeOpenAI();
      upstream.chatScripts.push(SLOW_ANSWER);
      const env = {
        ...baseEnv(upstream),
        DATABASE_URL: postgresUrlWithSchema(postgres!, schema),
        REDIS_URL: `redis://127.0.0.1:${port}`,
        MAX_CONCURRENT_TURNS_PER_USER: '4',
      };
      a = await startServerProcess({ ...env, DATA_DIR: join(dir, 'a') });
      b = await startServerProcess({ ...env, DATA_DIR: join(dir, 'b') });
    }, 120_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      redisServer?.kill('SIGKILL');
      await upstream?.close();
      await dropPostgresSchema(postgres!, schema);
      rmSync(dir, { recursive: true, force: true });
    });

    it('running turns keep storing their answers, /readyz turns 503, new subscribers get an error, and both recover without a restart', async () => {
      const onA = await openNdjson(`${a.url}/converse`, { query: 'hi', user: 'u', response_mode: 'streaming' });
      await onA.atLeast(5);
      const messageId = onA.events[0]!.message_id;
      const conversationId = onA.events[0]!.conversation_id;

      redisServer!.kill('SIGKILL');
      await new Promise((resolve) => redisServer!.once('exit', resolve));

      for (const s of [a, b]) {
        const ready = await waitFor(async () => {
          const res = await requestJson(`${s.url}/readyz`);
          return res.status === 503 ? res : undefined;
        }, 5000);
        expect(ready.body).toMatchObject({ status: 'unavailable', redis: 'unreachable', store: 'ok' });
      }
      // A new reader on B: a clear error at once, not a hang (a 503 the tRPC client reports as its
      // connection state and retries, so it resumes by itself once Redis is back).
      const startedAt = Date.now();
      const error = await firstConnectionError(b.url, messageId, '3');
      expect(error).toMatch(/live streams are unavailable/);
      expect(Date.now() - startedAt).toBeLessThan(5000);

      // A keeps generating and storing while Redis is away.
      const events = await onA.ended;
      expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
      expect(ids(events)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      const stored = (await createTestClient(b.url).messages.list.query({ conversationId, user: 'u' })).items.find((m) => m.id === messageId);
      expect(stored).toMatchObject({ status: 'complete', content: FULL_TEXT });

      // Redis comes back (empty): both recover by themselves.
      redisServer = await startPrivateRedis(port);
      for (const s of [a, b]) {
        await waitFor(async () => (await requestJson(`${s.url}/readyz`)).status === 200, 15_000, 100);
      }
      // The finished stream was written again from A's memory: re-attachable on B, exactly once.
      const again = await reattach(b.url, {}, messageId, '10');
      expect(again.map((e) => Number(e.id))).toEqual(ids(events).slice(10));
      expect(textOf([...events.slice(0, 10), ...again])).toBe(FULL_TEXT);

      // New turns stream across instances again.
      const next = await createTestClient(a.url).chat.send.mutate({ query: 'again', user: 'u' });
      const followed = await reattach(b.url, {}, next.messageId, undefined);
      expect(followed.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
      expect(textOf(followed)).toBe(FULL_TEXT);
    });
  },
);

/** The first error a tRPC subscriber of `chat.events` is told about (through its connection state). */
function firstConnectionError(base: string, messageId: string, lastEventId: string): Promise<string> {
  const client = createTestClient(base);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error reported in 10 s')), 10_000);
    const sub = client.chat.events.subscribe(
      { messageId, lastEventId, user: 'u' },
      {
        onData: () => undefined,
        onError: (err) => {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(err.message);
        },
        onConnectionStateChange: (state) => {
          if (state.state === 'connecting' && state.error) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(state.error.message);
          }
        },
      },
    );
  });
}

/** One GET over a connection of its own (node:cluster hands each new connection to the next worker). */
function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A tRPC SSE re-attach read until `message_end`, over a connection of its own. */
function reattachOnNewConnection(base: string, messageId: string, lastEventId: string): Promise<StreamEvent[]> {
  const input = encodeURIComponent(JSON.stringify({ messageId, lastEventId, user: 'u' }));
  return new Promise((resolve, reject) => {
    get(`${base}/trpc/chat.events?input=${input}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      const events: StreamEvent[] = [];
      let buffered = '';
      res.on('data', (c: Buffer) => {
        buffered += c.toString();
        let cut: number;
        while ((cut = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (!data || !block.split('\n').some((l) => l.startsWith('id: '))) continue;
          const event = JSON.parse(data.slice(6)) as StreamEvent;
          events.push(event);
          if (event.event === 'message_end') {
            res.destroy();
            resolve(events);
          }
        }
      });
      res.on('error', reject);
      res.on('end', () => resolve(events));
    }).on('error', reject);
  });
}

describe.runIf(serviceAvailable(redis, 'Redis', 'server: WORKERS=2 on SQLite'))('WORKERS=2 (node:cluster) on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-workers-'));
  const prefix = freshRedisPrefix();
  let upstream: FakeOpenAI;
  afterAll(async () => {
    await upstream?.close();
    await dropRedisPrefix(redis!, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('both workers serve, and a stream started through one is resumed through the other', async () => {
    upstream = await startFakeOpenAI();
    upstream.chatScripts.push(SLOW_ANSWER);
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox, { recursive: true });
    writeFileSync(join(inbox, 'x.txt'), 'x');
    const server = await startServerProcess({
      ...baseEnv(upstream),
      WORKERS: '2',
      REDIS_URL: redis!,
      REDIS_PREFIX: prefix,
      DATA_DIR: join(dir, 'data'),
      UPLOAD_ROOTS: inbox,
    });
    try {
      // Both workers have said they listen; each new connection goes to the next one.
      await waitFor(() => (server.output().match(/listening on/g) ?? []).length >= 2, 90_000);
      const instances = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const res = await getOnNewConnection(`${server.url}/readyz`);
        expect(res.status).toBe(200);
        instances.add((JSON.parse(res.body) as { instance: string }).instance);
      }
      expect(instances.size).toBe(2);

      const started = await openNdjson(`${server.url}/converse`, { query: 'hi', user: 'u', response_mode: 'streaming' });
      const first = await started.atLeast(5);
      const seen = first.slice(0, 5);
      await started.cut();
      const messageId = seen[0]!.message_id;
      // Two re-attaches on two new connections: one of them is served by the other worker.
      const [x, y] = [
        await reattachOnNewConnection(server.url, messageId, '5'),
        await reattachOnNewConnection(server.url, messageId, '5'),
      ];
      for (const rest of [x, y]) {
        const all = [...seen, ...rest];
        expect(ids(all)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
        expect(rest.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
        expect(textOf(all)).toBe(FULL_TEXT);
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // Two processes compile the server (tsx) at once: slow on a busy machine.
  }, 180_000);
});
