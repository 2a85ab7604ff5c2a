/**
 * Scenario 2: load. autocannon (programmatic, in the bench process) at 50 and 200 connections
 * against the floor and Colloquy's REST /converse (blocking, each request a new conversation),
 * with the mock direct and the peer for reference. Interleaved runs; median req/s and p99.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { cpuMs, type Child } from '../lib/procs.ts';
import { median } from '../lib/stats.ts';
import { peerHeaders, PEER_NAME, type Colloquy, type Mock } from '../lib/targets.ts';

export interface LoadCell {
  target: string;
  label: string;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, errors and timeouts over every run. */
  failures: number;
  /** CPU time of the process under test per request (ms) and its CPU use (share of one core). */
  cpuPerRequest: number;
  cpuUtil: number;
  runs: number;
  error?: string;
}

export interface LoadResult {
  cells: LoadCell[];
  durationS: number;
  runs: number;
  connections: number[];
}

interface Target {
  id: string;
  /** The process under test (the mock for direct). */
  pid: number;
  label: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  body: () => string;
}

export async function runLoad(opts: {
  mock: Mock;
  floor: Child;
  colloquy: Colloquy;
  peer?: Child;
  peerError?: string;
  durationS: number;
  runs: number;
  connections: number[];
  log: (s: string) => void;
}): Promise<LoadResult> {
  const { mock, floor, colloquy, peer } = opts;
  await mock.configure({ chunks: 8, delayMs: 0 });
  const openai = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'What is the refund policy?' }], stream: false });
  const json = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
  const targets: Target[] = [
    { id: 'direct', pid: mock.pid, label: 'direct to mock (reference)', url: mock.url, path: '/v1/chat/completions', headers: json, body: () => openai },
    { id: 'floor', pid: floor.pid, label: 'floor (bare node:http proxy)', url: floor.url, path: '/v1/chat/completions', headers: json, body: () => openai },
    {
      id: 'colloquy',
      pid: colloquy.pid,
      label: 'Colloquy REST `/converse` blocking',
      url: colloquy.url,
      path: '/converse',
      headers: { 'content-type': 'application/json' },
      body: () =>
        JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'bench-load', conversation_id: randomUUID() }),
    },
  ];
  if (peer) {
    targets.push({ id: 'peer', pid: peer.pid, label: `peer: ${PEER_NAME}`, url: peer.url, path: '/v1/chat/completions', headers: { ...json, ...peerHeaders(mock.url) }, body: () => openai });
  }

  const samples = new Map<string, Array<{ rps: number; p50: number; p99: number; failures: number; cpuPerRequest: number; cpuUtil: number }>>();
  const key = (t: string, c: number) => `${t}@${c}`;
  // A short warm-up per target.
  for (const t of targets) await shoot(t, 10, Math.min(2, opts.durationS));
  for (let run = 0; run < opts.runs; run++) {
    for (const c of opts.connections) {
      for (const t of targets) {
        const cpu0 = cpuMs(t.pid);
        const r = await shoot(t, c, opts.durationS);
        const cpu = cpuMs(t.pid) - cpu0;
        const list = samples.get(key(t.id, c)) ?? [];
        list.push({
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          failures: r.non2xx + r.errors + r.timeouts,
          cpuPerRequest: cpu / Math.max(1, r.requests.total),
          cpuUtil: cpu / (r.duration * 1000),
        });
        samples.set(key(t.id, c), list);
        opts.log(`  scenario 2: run ${run + 1}, ${t.id} @${c}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms`);
      }
    }
  }
  const cells: LoadCell[] = [];
  for (const c of opts.connections) {
    for (const t of targets) {
      const list = samples.get(key(t.id, c)) ?? [];
      cells.push({
        target: t.id,
        label: t.label,
        connections: c,
        reqPerSec: median(list.map((s) => s.rps)),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
        failures: list.reduce((n, s) => n + s.failures, 0),
        cpuPerRequest: median(list.map((s) => s.cpuPerRequest)),
        cpuUtil: median(list.map((s) => s.cpuUtil)),
        runs: list.length,
      });
    }
    if (!peer) cells.push({ target: 'peer', label: `peer: ${PEER_NAME}`, connections: c, reqPerSec: NaN, p50: NaN, p99: NaN, failures: 0, cpuPerRequest: NaN, cpuUtil: NaN, runs: 0, error: opts.peerError });
  }
  return { cells, durationS: opts.durationS, runs: opts.runs, connections: opts.connections };
}

function shoot(t: Target, connections: number, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url: t.url,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: t.path,
        headers: t.headers,
        setupRequest: (req) => ({ ...req, body: t.body() }),
      },
    ],
  });
}
