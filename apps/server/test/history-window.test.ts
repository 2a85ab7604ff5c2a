/**
 * A continued conversation's history is read newest first and only as far as the agent's budget
 * (issue 17): what goes upstream must be exactly what the whole history, trimmed by the budget,
 * gave before — same messages, same order, same cut — on SQLite and on PostgreSQL, across the
 * store's page boundaries, with empty answers skipped and earlier files still found.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openPostgresStore } from '@colloquy/store';
import { openaiAnswer, serviceAvailable, startFakeOpenAI, testServices, type FakeOpenAI } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const env: Record<string, string> = { COLLOQUY_CONFIG: configPath };
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
});
