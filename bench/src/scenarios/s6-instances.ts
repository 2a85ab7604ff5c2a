/**
 * Scenario 6: several instances. The same blocking load as scenario 2 at 50 connections, against
 * one process on SQLite (the default), one process on PostgreSQL + Redis, and two instances on
 * one PostgreSQL schema and one Redis prefix with the load split between them (25 connections
 * each, as a round-robin proxy would); and the cost of a re-attach (tRPC `chat.events` from
 * event 0 of a finished 100-event answer) on the instance that ran the turn (from memory) and
 * on the other one (from Redis).
 */
import { randomUUID } from 'node:crypto';
import { request, type Agent } from 'node:http';
import autocannon from 'autocannon';
import { createPostgresSchema, dropPostgresSchema, dropRedisPrefix, freshPostgresSchema, freshRedisPrefix, postgresUrlWithSchema, testServices } from '@colloquy/testing';
import { fetchText, keepAliveAgent } from '../lib/http.ts';
import { treeCpuMs } from '../lib/procs.ts';
import { median, summarize, type Summary } from '../lib/stats.ts';
import { startColloquy, type Colloquy, type Mock } from '../lib/targets.ts';

export interface InstancesLoadCell {
  id: 'single-sqlite' | 'workers-2' | 'single-shared' | 'two-shared';
  label: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU of the Colloquy process(es) per request (ms), both instances' together for two. */
  cpuPerRequest: number;
  runs: number;
}

export interface ReattachCell {
  id: 'owner' | 'other';
  label: string;
  events: number;
  first: Summary;
  total: Summary;
}

export interface InstancesResult {
  connections: number;
  durationS: number;
  runs: number;
  load: InstancesLoadCell[];
  reattach: ReattachCell[];
  /** Why the scenario did not run (no PostgreSQL or Redis). */
  skipped?: string;
}

const ANSWER_EVENTS = 100;

export async function runInstances(opts: {
  mock: Mock;
  durationS: number;
  runs: number;
  reattachSamples: number;
  log: (s: string) => void;
}): Promise<InstancesResult> {
  const connections = 50;
  const { postgres, redis } = await testServices();
  const empty = { connections, durationS: opts.durationS, runs: opts.runs, load: [], reattach: [] };
  if (!postgres || !redis) return { ...empty, skipped: `needs PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL or the local defaults): ${!postgres ? 'no PostgreSQL' : 'no Redis'}` };

  const schema = freshPostgresSchema();
  const prefix = freshRedisPrefix();
  const workersPrefix = freshRedisPrefix();
  await createPostgresSchema(postgres, schema);
  const shared = { DATABASE_URL: postgresUrlWithSchema(postgres, schema), REDIS_URL: redis, REDIS_PREFIX: prefix };
  const started: Colloquy[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const c = await startColloquy({ mockUrl: opts.mock.url, env });
    started.push(c);
    return c;
  };
  try {
    await opts.mock.configure({ chunks: 8, delayMs: 0 });
    const single = await start();
    // WORKERS=2: two forked workers sharing the port, SQLite, live state through Redis.
    const workers = await start({ WORKERS: '2', REDIS_URL: redis, REDIS_PREFIX: workersPrefix });
    const a = await start(shared);
    const b = await start(shared);
    const configs: Array<{ id: InstancesLoadCell['id']; label: string; targets: Colloquy[] }> = [
      { id: 'single-sqlite', label: 'one process, SQLite, in-process live state (the default)', targets: [single] },
      { id: 'workers-2', label: '`WORKERS=2` (two forked workers on one port), SQLite + Redis', targets: [workers] },
      { id: 'single-shared', label: 'one process, PostgreSQL + Redis', targets: [a] },
      { id: 'two-shared', label: 'two instances, one PostgreSQL + one Redis, 25 connections each', targets: [a, b] },
    ];
    for (const c of configs) for (const t of c.targets) await shoot(t.url, 10, Math.min(2, opts.durationS));
    const samples = new Map<string, Array<Omit<InstancesLoadCell, 'id' | 'label' | 'runs'>>>();
    for (let run = 0; run < opts.runs; run++) {
      for (const c of configs) {
        const per = Math.floor(connections / c.targets.length);
        const cpu0 = c.targets.map((t) => treeCpuMs(t.pid));
        const results = await Promise.all(c.targets.map((t) => shoot(t.url, per, opts.durationS)));
        const cpu = c.targets.reduce((n, t, i) => n + treeCpuMs(t.pid) - cpu0[i]!, 0);
        const total = results.reduce((n, r) => n + r.requests.total, 0);
        const cell = {
          reqPerSec: results.reduce((n, r) => n + r.requests.average, 0),
          // Two halves: the slower half's percentiles (what a client of either sees at worst).
          p50: Math.max(...results.map((r) => r.latency.p50)),
          p99: Math.max(...results.map((r) => r.latency.p99)),
          failures: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
          cpuPerRequest: cpu / Math.max(1, total),
        };
        samples.set(c.id, [...(samples.get(c.id) ?? []), cell]);
        opts.log(`  scenario 6: run ${run + 1}, ${c.id} @${connections}: ${Math.round(cell.reqPerSec)} req/s, p99 ${cell.p99} ms`);
      }
    }
    const load = configs.map((c): InstancesLoadCell => {
      const list = samples.get(c.id) ?? [];
      return {
        id: c.id,
        label: c.label,
        reqPerSec: median(list.map((s) => s.reqPerSec)),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
        failures: list.reduce((n, s) => n + s.failures, 0),
        cpuPerRequest: median(list.map((s) => s.cpuPerRequest)),
        runs: list.length,
      };
    });

    // Re-attach: one finished answer of ANSWER_EVENTS events, run on A.
    await opts.mock.configure({ chunks: ANSWER_EVENTS - 1, delayMs: 0 });
    const agent = keepAliveAgent(1);
    const sent = await fetchText(agent, {
      method: 'POST',
      url: `${a.url}/converse`,
      body: JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'bench-reattach', conversation_id: randomUUID() }),
    });
    const messageId = (JSON.parse(sent.body) as { message_id: string }).message_id;
    const reattach: ReattachCell[] = [];
    for (const [id, target, label] of [
      ['owner', a, 'on the instance that ran the turn (from memory)'],
      ['other', b, 'on the other instance (from Redis)'],
    ] as const) {
      const agentFor = keepAliveAgent(1);
      const first: number[] = [];
      const total: number[] = [];
      let events = 0;
      for (let i = 0; i < opts.reattachSamples + 20; i++) {
        const r = await readEvents(agentFor, target.url, messageId);
        if (i < 20) continue; // warm-up
        first.push(r.first);
        total.push(r.total);
        events = r.events;
      }
      reattach.push({ id, label, events, first: summarize(first), total: summarize(total) });
      opts.log(`  scenario 6: re-attach ${id}: first event p50 ${summarize(first).p50.toFixed(2)} ms, all ${events} p50 ${summarize(total).p50.toFixed(2)} ms`);
    }
    return { connections, durationS: opts.durationS, runs: opts.runs, load, reattach };
  } finally {
    for (const c of started) await c.dispose();
    await dropPostgresSchema(postgres, schema).catch(() => undefined);
    await dropRedisPrefix(redis, prefix).catch(() => undefined);
    await dropRedisPrefix(redis, workersPrefix).catch(() => undefined);
  }
}

function shoot(url: string, connections: number, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/converse',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'bench-load', conversation_id: randomUUID() }),
        }),
      },
    ],
  });
}

/** A tRPC SSE re-attach from event 0, read to its `message_end`: ms to the first event and to the end. */
function readEvents(agent: Agent, base: string, messageId: string): Promise<{ first: number; total: number; events: number }> {
  const u = new URL(`${base}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ messageId, lastEventId: 0, user: 'bench-reattach' }))}`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = NaN;
    let total = NaN;
    let events = 0;
    let text = '';
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { accept: 'text/event-stream' }, agent }, (res) => {
      res.on('data', (c: Buffer) => {
        text += c.toString();
        let cut: number;
        while ((cut = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, cut);
          text = text.slice(cut + 2);
          if (!/^id: /m.test(block)) continue;
          events += 1;
          if (events === 1) first = performance.now() - t0;
          if (block.includes('"event":"message_end"')) total = performance.now() - t0;
        }
      });
      // The server ends the response after message_end: the connection is kept for the next.
      res.on('end', () => resolve({ first, total, events }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
