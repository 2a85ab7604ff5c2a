/**
 * Scenario 7: a growing conversation. One user continues one conversation (no
 * `conversation_id`: the original API's "current conversation" rule) with the `openai` agent,
 * turn after turn, blocking; every `bucket` turns one turn in a new conversation is timed as the
 * reference. Per bucket: p50/p99 of the continued turns, the gateway's CPU per turn, and the
 * ratio to the new-conversation turns. The history budget (24,000 characters by default) caps
 * what goes upstream, so a turn's cost should not grow with the conversation.
 */
import { randomUUID } from 'node:crypto';
import { fetchText, keepAliveAgent } from '../lib/http.ts';
import { cpuMs } from '../lib/procs.ts';
import { percentile } from '../lib/stats.ts';
import type { Colloquy, Mock } from '../lib/targets.ts';

export interface LongConversationBucket {
  /** Turn numbers of the continued conversation, 1-based inclusive. */
  from: number;
  to: number;
  p50: number;
  p99: number;
  cpuPerTurn: number;
  /** New-conversation turns timed in the same stretch (the reference). */
  freshP50: number;
  freshCpuPerTurn: number;
}

export interface LongConversationResult {
  turns: number;
  bucket: number;
  buckets: LongConversationBucket[];
  /** Characters of history sent upstream by the last turn (from the mock's view: the request size). */
  historyMessagesLastTurn?: number;
}

export async function runLongConversation(opts: {
  mock: Mock;
  colloquy: Colloquy;
  turns: number;
  bucket: number;
  /** New-conversation turns per bucket. */
  fresh: number;
  log: (s: string) => void;
}): Promise<LongConversationResult> {
  const { colloquy } = opts;
  await opts.mock.configure({ chunks: 8, delayMs: 0 });
  const agent = keepAliveAgent(1);
  const url = new URL('/converse', colloquy.url).toString();
  const user = `bench-long-${randomUUID().slice(0, 8)}`;
  const turn = async (body: Record<string, unknown>) => {
    const r = await fetchText(agent, { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`long conversation: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
    return r.ms;
  };
  // Warm-up in other users' conversations (JIT, statement cache).
  for (let i = 0; i < 200; i++) await turn({ query: 'warm-up', user: `${user}-warm`, conversation_id: randomUUID() });
  const buckets: LongConversationBucket[] = [];
  for (let from = 1; from <= opts.turns; from += opts.bucket) {
    const to = Math.min(opts.turns, from + opts.bucket - 1);
    const times: number[] = [];
    const cpu0 = cpuMs(colloquy.pid);
    for (let i = from; i <= to; i++) times.push(await turn({ query: `Question ${i}: what is the refund policy?`, user }));
    const cpuPerTurn = (cpuMs(colloquy.pid) - cpu0) / times.length;
    const fresh: number[] = [];
    const cpu1 = cpuMs(colloquy.pid);
    for (let i = 0; i < opts.fresh; i++) fresh.push(await turn({ query: 'What is the refund policy?', user: `${user}-fresh`, conversation_id: randomUUID() }));
    const freshCpuPerTurn = (cpuMs(colloquy.pid) - cpu1) / fresh.length;
    times.sort((a, b) => a - b);
    fresh.sort((a, b) => a - b);
    const b: LongConversationBucket = {
      from,
      to,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      cpuPerTurn,
      freshP50: percentile(fresh, 50),
      freshCpuPerTurn,
    };
    buckets.push(b);
    opts.log(
      `  scenario 7: turns ${from}–${to}: p50 ${b.p50.toFixed(2)} ms, CPU ${b.cpuPerTurn.toFixed(3)} ms/turn; new conversation p50 ${b.freshP50.toFixed(2)} ms, CPU ${b.freshCpuPerTurn.toFixed(3)} ms`,
    );
  }
  agent.destroy();
  return { turns: opts.turns, bucket: opts.bucket, buckets };
}
