/**
 * The history read of a continued turn in isolation (issue 17): CPU per read of a long
 * conversation's history, from a kept window (HistoryWindows) against the uncached newest-first
 * read (a HistoryWindows that keeps nothing: what every turn did before), in one process on one
 * SQLite file, interleaved in blocks so host load affects both alike.
 *
 *   node --import tsx bench/src/tools/history-read.ts [turns=3000] [reads=2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryWindows } from '@colloquy/api';
import { openSqliteStore, type MessageRecord, type Store } from '@colloquy/store';

const turns = Number(process.argv[2] ?? 3000);
const reads = Number(process.argv[3] ?? 2000);
const BUDGET = 24_000; // the openai agent's default historyBudgetChars
const USER = 'bench';
const CONV = 'long';
const ANSWER = 'The refund policy allows returns within 30 days of purchase.'; // about the mock's answer

const dir = mkdtempSync(join(tmpdir(), 'history-read-'));
const store: Store = await openSqliteStore({ filename: join(dir, 'db.sqlite') });
let clock = 0;
const msg = (role: 'user' | 'assistant', content: string, status: MessageRecord['status']): MessageRecord => {
  clock++;
  return { id: `m${clock}`, userId: USER, conversationId: CONV, role, content, fileIds: [], status, usage: null, citations: [], error: null, lastEventId: 0, createdAt: clock, updatedAt: clock };
};
async function storeTurn(i: number): Promise<MessageRecord> {
  const user = msg('user', `Question ${i}: what is the refund policy?`, 'complete');
  const assistant = msg('assistant', '', 'streaming');
  await store.beginTurn({
    conversation: i === 0
      ? { create: { id: CONV, userId: USER, agentId: 'openai', name: '', managerId: null, upstreamId: null, createdAt: clock, updatedAt: clock } }
      : { touch: { userId: USER, id: CONV, updatedAt: clock } },
    userMessage: user,
    assistantMessage: assistant,
  });
  await store.messages.update(assistant.id, { content: ANSWER, status: 'complete', updatedAt: clock });
  return user;
}

let current: MessageRecord | undefined;
for (let i = 0; i < turns; i++) current = await storeTurn(i);
const kept = new HistoryWindows(store);
const cpu = { kept: 0, fresh: 0 };
let n = 0;
for (let block = 0; n < reads; block++) {
  // Each read is a new turn: the window is refreshed with the previous turn's messages.
  for (let j = 0; j < 50 && n < reads; j++, n++) {
    current = await storeTurn(turns + n);
    const useKept = block % 2 === 0;
    const t0 = process.cpuUsage();
    if (useKept) await kept.read(USER, CONV, current, BUDGET);
    else await new HistoryWindows(store, { maxWindows: 0 }).read(USER, CONV, current, BUDGET);
    const d = process.cpuUsage(t0);
    cpu[useKept ? 'kept' : 'fresh'] += d.user + d.system;
  }
}
const per = (us: number) => (us / (reads / 2) / 1000).toFixed(3);
console.log(`conversation of ${turns} turns, ${reads} reads (half each, interleaved in blocks of 50), budget ${BUDGET}`);
console.log(`CPU per read: kept window ${per(cpu.kept)} ms, fresh read ${per(cpu.fresh)} ms`);
await store.close();
rmSync(dir, { recursive: true, force: true });
