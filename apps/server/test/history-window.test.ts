/**
 * A continued conversation's history is read newest first and only as far as the agent's budget
 * (issue 17): what goes upstream must be exactly what the whole history, trimmed by the budget,
 * gave before — same messages, same order, same cut — on SQLite and on PostgreSQL, across the
 * store's page boundaries, with empty answers skipped and earlier files still found. The window
 * a conversation keeps between turns (packages/api `turns/history-window.ts`) must give what a
 * fresh read of the store gives whatever else wrote to the conversation in between: another
 * instance on the same database, a failed, cut or stopped answer, an answer still streaming, a
 * deleted and re-created conversation, a larger or smaller budget.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openPostgresStore } from '@colloquy/store';
import { openaiAnswer, serviceAvailable, startFakeOpenAI, testServices, type FakeOpenAI } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNdjson } from './support/multi-instance.ts';
import { createTestClient } from './support/trpc-client.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

const pgUrl = (await testServices()).postgres;
const pgRuns = serviceAvailable(pgUrl, 'PostgreSQL', 'server: history window on PostgreSQL');

interface Msg {
  role: 'user' | 'assistant';
  content: string;
}

/** The rule the agent applies (newest messages that fit whole; no leading assistant), written out independently. */
function expectedHistory(all: readonly Msg[], budget: number): Msg[] {
  const dialogue = all.filter((m) => m.content.length > 0);
  let used = 0;
  let start = dialogue.length;
  for (let i = dialogue.length - 1; i >= 0; i--) {
    if (used + dialogue[i]!.content.length > budget) break;
    used += dialogue[i]!.content.length;
    start = i;
  }
  const kept = dialogue.slice(start);
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}

const BUDGETS = { small: 300, big: 4_000 } as const;

describe.each([
  { backend: 'SQLite', runs: true },
  { backend: 'PostgreSQL', runs: pgRuns },
])('history sent upstream for a long conversation ($backend)', ({ backend, runs }) => {
  let openai: FakeOpenAI;
  let server: TestServer;
  let configDir: string;
  let env: Record<string, string>;
  const schema = `colloquy_hist_${randomUUID().replace(/-/g, '')}`;

  beforeAll(async () => {
    if (!runs) return;
    openai = await startFakeOpenAI();
    configDir = mkdtempSync(join(tmpdir(), 'colloquy-history-'));
    const configPath = join(configDir, 'colloquy.yaml');
    const agent = (id: string, budget: number) => [
      `  - id: ${id}`,
      '    type: openai',
      `    baseUrl: ${openai.baseUrl}`,
      `    apiKey: ${openai.apiKey}`,
      '    model: gpt-fake-mini',
      `    historyBudgetChars: ${budget}`,
    ];
    writeFileSync(configPath, ['agents:', ...agent('small', BUDGETS.small), ...agent('big', BUDGETS.big)].join('\n'));
    env = { COLLOQUY_CONFIG: configPath };
    if (backend === 'PostgreSQL') {
      await (await openPostgresStore({ connectionString: pgUrl!, schema })).close();
      const databaseUrl = new URL(pgUrl!);
      databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
      env.DATABASE_URL = databaseUrl.toString();
    }
    server = await startTestServer(env);
    server.writeInbox('notes.txt', 'The meeting moved to Thursday.');
  });
  afterAll(async () => {
    await server?.dispose();
    await openai?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    if (runs && backend === 'PostgreSQL') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
  });

  it.runIf(runs).each(['small', 'big'] as const)('agent with a %s budget: every turn gets the same history as the whole conversation trimmed', async (agentId) => {
    const conversationId = `long-${agentId}`;
    const sent: Msg[] = [];
    const upload = await requestJson(`${server.url}/upload_files`, { body: { file_paths: ['notes.txt'], user: 'hist-user' } });
    expect(upload.status, JSON.stringify(upload.body)).toBe(200);
    // 110 turns = 220 messages: more than the store's first pages (64, then 128 messages).
    for (let turn = 0; turn < 110; turn++) {
      const query = `q${turn}-${'x'.repeat((turn * 7) % 23)}`;
      // Every 13th answer is empty (never history); one is larger than the small budget alone.
      const answer = turn % 13 === 5 ? '' : turn === 60 ? 'L'.repeat(BUDGETS.small + 1) : `a${turn}-${'y'.repeat((turn * 11) % 41)}`;
      openai.chatScripts.splice(0, Infinity, { chunks: openaiAnswer({ deltas: answer ? [answer] : [] }) });
      const before = openai.chats().length;
      const res = await requestJson(`${server.url}/converse`, {
        body: { query, agent: agentId, conversation_id: conversationId, user: 'hist-user', ...(turn === 2 ? { files: ['notes.txt'] } : {}) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((res.body as { answer: string }).answer).toBe(answer);
      const request = openai.chats()[before]!.json as { messages: Array<{ role: string; content: string }> };
      const messages = request.messages;
      // A file attached on turn 2 is still found on every later turn (the system message).
      if (turn >= 2) expect(messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('The meeting moved to Thursday.') });
      const dialogue = messages.filter((m) => m.role !== 'system');
      expect(dialogue.at(-1)).toEqual({ role: 'user', content: query });
      expect(dialogue.slice(0, -1)).toEqual(expectedHistory(sent, BUDGETS[agentId]));
      sent.push({ role: 'user', content: query }, { role: 'assistant', content: answer });
    }
  });

  it.runIf(runs)('continued turns get what a fresh read of the store gives, whatever else wrote to the conversation in between', async () => {
    const user = 'window-user';
    const conversationId = 'window-conv';
    const client = createTestClient(server.url);
    // A second instance on the same database (SQLite: the same file; PostgreSQL: the same schema).
    const other = await startTestServer(backend === 'SQLite' ? { ...env, DATA_DIR: join(server.dir, 'data') } : env);
    try {
      /** The uncached read: every stored message, oldest first, as the store has it now. */
      const stored = async (): Promise<Msg[]> => {
        const all: Array<{ role: string; content: string; status: string }> = [];
        let cursor: string | undefined;
        do {
          const page = await client.messages.list
            .query({ conversationId, user, limit: 100, ...(cursor ? { cursor } : {}) })
            // Not there yet (or deleted): no messages.
            .catch((err: unknown) => {
              if (err instanceof Error && err.message.includes('not found')) return { items: [], nextCursor: null };
              throw err;
            });
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all.filter((m) => m.status !== 'streaming').map((m) => ({ role: m.role as Msg['role'], content: m.content }));
      };
      /** One blocking turn on `on`; checks the history it sent upstream against the store's. */
      const turn = async (on: TestServer, agent: keyof typeof BUDGETS, query: string, answer: string, expectStatus = 200) => {
        const expected = expectedHistory(await stored(), BUDGETS[agent]);
        openai.chatScripts.splice(0, Infinity, { chunks: openaiAnswer({ deltas: [answer] }) });
        const before = openai.chats().length;
        const res = await requestJson(`${on.url}/converse`, { body: { query, agent, conversation_id: conversationId, user } });
        expect(res.status, JSON.stringify(res.body)).toBe(expectStatus);
        const messages = (openai.chats()[before]!.json as { messages: Msg[] }).messages.filter((m) => (m.role as string) !== 'system');
        expect(messages.at(-1)).toEqual({ role: 'user', content: query });
        expect(messages.slice(0, -1), `${backend}: ${query}`).toEqual(expected);
      };
      const words = (n: number, tag: string) => Array.from({ length: n + 1 }, (_, i) => `${tag}${i}`).join(' ');

      for (let i = 0; i < 30; i++) await turn(server, 'big', `first-${i} ${words(i % 9, 'q')}`, `answer-${i} ${words(i % 13, 'a')}`);
      // Another instance appends to the conversation; this one's window must see it.
      await turn(other, 'big', 'on the other instance', 'answered there');
      await turn(server, 'big', 'back here', 'ok');
      // Budget boundaries: a smaller budget, then a larger one (the window must read further back).
      await turn(server, 'small', 'small budget', 'short');
      await turn(server, 'big', 'big budget again', 'long enough');

      // An answer still streaming while another turn reads the conversation, stopped later: the
      // next turn gets its stopped text.
      openai.chatScripts.splice(0, Infinity, { chunks: openaiAnswer({ deltas: Array.from({ length: 60 }, (_, i) => `held${i} `) }), delayMs: 100 });
      const held = await openNdjson(`${server.url}/converse`, { query: 'a slow one', agent: 'big', conversation_id: conversationId, user, response_mode: 'streaming' });
      const [first] = await held.atLeast(3);
      await turn(server, 'big', 'while it streams', 'meanwhile');
      // Twice: the streaming answer is then inside the window, not its newest message.
      await turn(server, 'big', 'while it still streams', 'meanwhile again');
      expect((await requestJson(`${server.url}/stop_converse`, { body: { message_id: (first as unknown as { message_id: string }).message_id, user } })).status).toBe(200);
      await held.ended;
      await turn(server, 'big', 'after the stop', 'seen');

      // Failed turns: an upstream 5xx (nothing stored as history), a stream cut mid-answer (the
      // partial text is kept).
      openai.chatScripts.splice(0, Infinity, { status: 500, json: { error: { message: 'boom', type: 'server_error' } } });
      expect((await requestJson(`${server.url}/converse`, { body: { query: 'fails', agent: 'big', conversation_id: conversationId, user } })).status).toBe(500);
      await turn(server, 'big', 'after a failure', 'fine');
      openai.chatScripts.splice(0, Infinity, { chunks: openaiAnswer({ deltas: ['par', 'tial'], noEnd: true }), closeMidStream: true });
      expect((await requestJson(`${server.url}/converse`, { body: { query: 'cut off', agent: 'big', conversation_id: conversationId, user } })).status).toBe(500);
      await turn(server, 'big', 'after a cut', 'fine again');

      // Deleted on the other instance and re-created under the same id: nothing of the old one.
      expect((await requestJson(`${other.url}/delete_conv`, { method: 'DELETE', body: { conversation_id: conversationId, user } })).status).toBe(200);
      await turn(other, 'big', 'anew there', 'a new conversation');
      await turn(server, 'big', 'anew here', 'still new');
      expect(await stored()).toHaveLength(4);
      // Deleted here, re-created here.
      expect((await requestJson(`${server.url}/delete_conv`, { method: 'DELETE', body: { conversation_id: conversationId, user } })).status).toBe(200);
      await turn(server, 'big', 'once more', 'from scratch');
      await turn(server, 'big', 'and on', 'continued');
      expect(await stored()).toHaveLength(4);
    } finally {
      await other.dispose().catch(() => undefined);
    }
  });
});

