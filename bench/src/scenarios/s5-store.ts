/**
 * Scenario 5: the store at size. A SQLite file is created (and migrated) by @colloquy/store's
 * openSqliteStore, seeded with raw inserts through the store's SQLite driver (prepared
 * statements, one transaction per 100,000 rows, the store's own schema), reopened through
 * openSqliteStore, and the listings are timed on the Store interface; then end to end through a
 * Colloquy child on that file. The driver is the run's SQLITE_DRIVER (`--sqlite-driver`).
 */
import { statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSqliteDriver, openSqliteStore, type SqliteDriverChoice, type SqliteDriverName, type Store } from '@colloquy/store';
import { fetchText, keepAliveAgent } from '../lib/http.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import { startColloquy } from '../lib/targets.ts';

export interface StoreOp {
  id: string;
  label: string;
  layer: 'store' | 'http';
  summary: Summary;
}

export interface StoreResult {
  conversations: number;
  messages: number;
  users: number;
  heavyUserConversations: number;
  seedMs: number;
  fileBytes: number;
  /** The SQLite driver the store (and the seeding) ran on; absent in results from before SQLITE_DRIVER (better-sqlite3). */
  driver?: SqliteDriverName;
  ops: StoreOp[];
}

const USERS = 1000;
const MESSAGES_PER_CONVERSATION = 10;

export async function runStore(opts: {
  conversations: number;
  samples: number;
  httpSamples: number;
  mockUrl: string;
  sqliteDriver: SqliteDriverChoice;
  log: (s: string) => void;
}): Promise<StoreResult> {
  const driver = opts.sqliteDriver;
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-bench-store-'));
  const filename = join(dir, 'colloquy.sqlite');
  try {
    // Schema through the store's own migrations.
    await (await openSqliteStore({ filename, driver })).close();
    const nConv = opts.conversations;
    const nMsg = nConv * MESSAGES_PER_CONVERSATION;
    // A tenth of the conversations belong to one heavy user; the rest spread over USERS users.
    const heavy = Math.floor(nConv / 10);
    const userOf = (i: number) => (i < heavy ? 'heavy' : `user-${String(i % USERS).padStart(4, '0')}`);
    const t0 = performance.now();
    await seed(filename, driver, nConv, userOf, opts.log);
    const seedMs = performance.now() - t0;
    const fileBytes = statSync(filename).size;
    opts.log(`  scenario 5: seeded ${nConv.toLocaleString('en-US')} conversations / ${nMsg.toLocaleString('en-US')} messages in ${(seedMs / 1000).toFixed(1)} s (${(fileBytes / 1e6).toFixed(0)} MB)`);

    const store = await openSqliteStore({ filename, driver });
    const ops: StoreOp[] = [];
    try {
      const rnd = (k: number) => Math.floor(Math.random() * k);
      /** A random seeded conversation: its owner and id (ids are per user). */
      const conv = (): [string, string] => {
        const i = rnd(nConv);
        return [userOf(i), `conv-${i}`];
      };
      const user = () => `user-${String(rnd(USERS)).padStart(4, '0')}`;
      // A cursor deep into the heavy user's list (half way).
      const heavyRows = await store.conversations.list({ userId: 'heavy', limit: Math.max(1, Math.floor(heavy / 2)) });
      const deep = heavyRows.at(-1);
      const timed = async (id: string, label: string, call: () => Promise<unknown>) => {
        for (let i = 0; i < Math.min(200, opts.samples); i++) await call();
        const t: number[] = [];
        for (let i = 0; i < opts.samples; i++) {
          const s = performance.now();
          await call();
          t.push(performance.now() - s);
        }
        ops.push({ id, label, layer: 'store', summary: summarize(t) });
      };
      await timed('conv-list-user', `conversations.list({userId, limit: 20}) — a user with ~${Math.round((nConv - heavy) / USERS)} conversations`, () =>
        store.conversations.list({ userId: user(), limit: 20 }),
      );
      await timed('conv-list-heavy', `conversations.list({userId, limit: 20}) — the user with ${heavy.toLocaleString('en-US')} conversations`, () =>
        store.conversations.list({ userId: 'heavy', limit: 20 }),
      );
      if (deep) {
        await timed('conv-list-heavy-deep', 'conversations.list — that user, a page half way down (keyset cursor)', () =>
          store.conversations.list({ userId: 'heavy', limit: 20, after: { updatedAt: deep.updatedAt, id: deep.id } }),
        );
      }
      await timed('conv-list-all', 'conversations.list({limit: 20}) — every user (no user filter)', () => store.conversations.list({ limit: 20 }));
      await timed('conv-latest', 'conversations.latestForUser(userId) — the "current conversation" lookup', () =>
        store.conversations.latestForUser(user()),
      );
      await timed('msg-list', `messages.list({userId, conversationId, limit: 50}) — ${MESSAGES_PER_CONVERSATION} messages each`, () => {
        const [userId, conversationId] = conv();
        return store.messages.list({ userId, conversationId, limit: 50 });
      });
      await timed('msg-list-after', 'messages.list({conversationId, afterId, limit: 50}) — from the 5th message', () => {
        const i = rnd(nConv);
        return store.messages.list({ userId: userOf(i), conversationId: `conv-${i}`, afterId: `msg-${i}-4`, limit: 50 });
      });
      await timed('msg-list-all', 'messages.listAll(userId, conversationId) — the history a turn loads', () => store.messages.listAll(...conv()));
      let turnNo = 0;
      await timed('turn-store-calls', "one blocking turn's store calls in a new conversation (get, beginTurn, final update)", () =>
        turnStoreCalls(store, `bench-turn-${turnNo++}`),
      );
    } finally {
      await store.close();
    }

    // End to end: the same listings through a Colloquy child serving that file.
    const colloquy = await startColloquy({ mockUrl: opts.mockUrl, env: { DATABASE_URL: filename, SQLITE_DRIVER: driver } });
    try {
      const agent = keepAliveAgent(1);
      const http = async (id: string, label: string, url: () => string) => {
        for (let i = 0; i < Math.min(200, opts.httpSamples); i++) await fetchText(agent, { method: 'GET', url: url() });
        const t: number[] = [];
        for (let i = 0; i < opts.httpSamples; i++) t.push((await fetchText(agent, { method: 'GET', url: url() })).ms);
        ops.push({ id, label, layer: 'http', summary: summarize(t) });
      };
      const rnd = (k: number) => Math.floor(Math.random() * k);
      const q = (o: object) => encodeURIComponent(JSON.stringify(o));
      await http('http-rest-list', 'REST `GET /get_conversation_list?user=…&limit=20`', () => `${colloquy.url}/get_conversation_list?user=user-${String(rnd(USERS)).padStart(4, '0')}&limit=20`);
      await http('http-rest-list-heavy', 'REST `GET /get_conversation_list` — the heavy user', () => `${colloquy.url}/get_conversation_list?user=heavy&limit=20`);
      await http('http-trpc-list', 'tRPC `conversations.list` {user, limit: 20}', () => `${colloquy.url}/trpc/conversations.list?input=${q({ user: `user-${String(rnd(USERS)).padStart(4, '0')}`, limit: 20 })}`);
      await http('http-trpc-messages', 'tRPC `messages.list` {conversationId, limit: 50}', () => {
        const i = rnd(nConv);
        return `${colloquy.url}/trpc/messages.list?input=${q({ conversationId: `conv-${i}`, user: userOf(i), limit: 50 })}`;
      });
      agent.destroy();
    } finally {
      await colloquy.dispose();
    }
    return { conversations: nConv, messages: nMsg, users: USERS + 1, heavyUserConversations: heavy, seedMs, fileBytes, driver: (await loadSqliteDriver(driver)).name, ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What TurnService does with the store for one blocking turn that starts a new conversation. */
export async function turnStoreCalls(store: Store, id: string): Promise<void> {
  const now = Date.now();
  await store.conversations.get('turns', id);
  const user = {
    id: `${id}-u`,
    userId: 'turns',
    conversationId: id,
    role: 'user' as const,
    content: 'What is the refund policy?',
    fileIds: [],
    status: 'complete' as const,
    usage: null,
    citations: [],
    error: null,
    lastEventId: 0,
    createdAt: now,
    updatedAt: now,
  };
  const assistant = { ...user, id: `${id}-a`, role: 'assistant' as const, content: '', status: 'streaming' as const };
  await store.beginTurn({
    conversation: { create: { id, userId: 'turns', agentId: 'openai', name: 'What is the refund policy?', managerId: null, upstreamId: null, createdAt: now, updatedAt: now } },
    userMessage: user,
    assistantMessage: assistant,
  });
  // A new conversation has no history to load, and the final update returns the stored record.
  await store.messages.update(assistant.id, {
    content: 'tok tok tok tok tok tok tok tok ',
    status: 'complete',
    usage: { promptTokens: 9, completionTokens: 8, totalTokens: 17 },
    citations: [],
    error: null,
    lastEventId: 9,
    updatedAt: Date.now(),
  });
}

/** Raw inserts in the store's schema: 100,000 rows per transaction. */
async function seed(filename: string, driver: SqliteDriverChoice, nConv: number, userOf: (i: number) => string, log: (s: string) => void): Promise<void> {
  const db = (await loadSqliteDriver(driver)).open(filename);
  db.pragma('synchronous = OFF');
  const insConv = db.prepare(
    'INSERT INTO conversations (id, user_id, agent_id, name, manager_id, upstream_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insMsg = db.prepare(
    'INSERT INTO messages (id, user_id, conversation_id, role, content, file_ids, status, usage, citations, error, last_event_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const base = Date.UTC(2025, 0, 1);
  const question = 'How do I configure the refund policy for digital goods in the EU store?';
  const answer = 'Refunds for digital goods in the EU follow the 14-day withdrawal right unless the customer waived it when the download started. '.repeat(2);
  const usage = JSON.stringify({ promptTokens: 40, completionTokens: 60, totalTokens: 100 });
  const batch = (from: number, to: number) => {
    db.exec('BEGIN');
    try {
    for (let i = from; i < to; i++) {
      // Conversations were used in random order: updated_at is not the insertion order.
      const created = base + i * 1000;
      const updated = created + Math.floor(Math.random() * 30 * 24 * 3600_000);
      insConv.run([`conv-${i}`, userOf(i), 'openai', `Conversation ${i}`, i % 7 === 0 ? 'team-a' : null, null, created, updated]);
      for (let m = 0; m < MESSAGES_PER_CONVERSATION; m++) {
        const user = m % 2 === 0;
        insMsg.run([
          `msg-${i}-${m}`,
          userOf(i),
          `conv-${i}`,
          user ? 'user' : 'assistant',
          user ? question : answer,
          '[]',
          'complete',
          user ? null : usage,
          '[]',
          null,
          user ? 0 : 12,
          created + m * 1000,
          created + m * 1000,
        ]);
      }
    }
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    db.exec('COMMIT');
  };
  const step = Math.max(1, Math.floor(100_000 / MESSAGES_PER_CONVERSATION));
  for (let from = 0; from < nConv; from += step) {
    batch(from, Math.min(nConv, from + step));
    if ((from / step) % 10 === 9) log(`  scenario 5: seeding… ${(from + step).toLocaleString('en-US')} conversations`);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
