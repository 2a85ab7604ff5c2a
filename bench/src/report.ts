/** bench/RESULTS.md: the machine, the figures, their ratios to the floor, and the targets. */
import type { LatencyResult, LatencyRow } from './scenarios/s1-latency.ts';
import type { LoadResult } from './scenarios/s2-load.ts';
import type { StreamsResult } from './scenarios/s3-open-streams.ts';
import type { RelayResult } from './scenarios/s4-relay.ts';
import type { StoreResult } from './scenarios/s5-store.ts';
import type { SqliteDriverName } from '@colloquy/store';
import type { InstancesResult } from './scenarios/s6-instances.ts';
import type { LongConversationResult } from './scenarios/s7-long-conversation.ts';
import { fmtBytes, fmtInt, fmtMs, fmtRatio, type RunsSummary } from './lib/stats.ts';

export interface BenchReport {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt?: string;
  machine: { cores: number; cpuModel: string; totalMemBytes: number; node: string; platform: string };
  loadBefore: number[];
  loadAfter: number[];
  git: { commit: string; dirty: boolean };
  /** The SQLite driver Colloquy ran on (absent in runs from before SQLITE_DRIVER: better-sqlite3). */
  sqliteDriver?: SqliteDriverName;
  /** The mode's parameters (main.ts's ModeParams), written as they are (report.ts imports nothing from main.ts: no cycle). */
  params: object;
  peerError?: string;
  /** Scenarios re-run later (`--only=… --write`) whose figures replaced this run's. */
  reruns?: Array<{ scenarios: string; startedAt: string; loadBefore: number[]; loadAfter: number[]; git: { commit: string; dirty: boolean } }>;
  latency?: LatencyResult;
  runtime?: { tsx: RunsSummary; bundle: RunsSummary };
  load?: LoadResult;
  streams?: StreamsResult;
  relay?: RelayResult;
  store?: StoreResult;
  instances?: InstancesResult;
  longConversation?: LongConversationResult;
}

export interface TargetCheck {
  target: string;
  figure: string;
  met: 'yes' | 'no' | 'n/a';
  note?: string;
}

const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;

export function evaluateTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const byId = (id: string) => r.latency?.rows.find((x) => x.id === id);
  const direct = (b: LatencyRow['baseline']) => byId(b);
  if (r.latency) {
    const rest = byId('rest-blocking');
    const base = direct('direct-blocking');
    const over = (rest?.total?.p50 ?? NaN) - (base?.total?.p50 ?? NaN);
    const trpc = byId('trpc-converse');
    const overT = (trpc?.total?.p50 ?? NaN) - (base?.total?.p50 ?? NaN);
    out.push({
      target: 'blocking overhead over direct, p50 ≤ 0.6 ms (turn stored)',
      figure: `REST ${fmtMs(over)} ms; tRPC ${fmtMs(overT)} ms`,
      met: Number.isFinite(over) ? (over <= 0.6 ? 'yes' : 'no') : 'n/a',
    });
    const rs = byId('rest-stream');
    const bs = direct('direct-stream');
    const overS = (rs?.first?.p50 ?? NaN) - (bs?.first?.p50 ?? NaN);
    const ts = byId('trpc-stream');
    const overTs = (ts?.first?.p50 ?? NaN) - (bs?.first?.p50 ?? NaN);
    out.push({
      target: 'streaming first-event overhead over direct, p50 ≤ 1 ms',
      figure: `REST NDJSON ${fmtMs(overS)} ms; tRPC send+events ${fmtMs(overTs)} ms`,
      met: Number.isFinite(overS) ? (overS <= 1 ? 'yes' : 'no') : 'n/a',
    });
  }
  if (r.load) {
    const floor = r.load.cells.find((c) => c.target === 'floor' && c.connections === 50);
    const col = r.load.cells.find((c) => c.target === 'colloquy' && c.connections === 50);
    const share = (col?.reqPerSec ?? NaN) / (floor?.reqPerSec ?? NaN);
    out.push({
      target: "load at 50 connections ≥ 50 % of the floor's req/s",
      figure: `${fmtInt(col?.reqPerSec)} vs ${fmtInt(floor?.reqPerSec)} req/s = ${Number.isFinite(share) ? (share * 100).toFixed(0) : '–'} %`,
      met: Number.isFinite(share) ? (share >= 0.5 ? 'yes' : 'no') : 'n/a',
      ...(r.mode === 'quick' ? { note: `quick mode: ${r.load.durationS} s runs` } : {}),
    });
  }
  if (r.streams) {
    const c = r.streams.cells.find((x) => x.target === 'colloquy');
    const redisCell = r.streams.cells.find((x) => x.target === 'colloquy-redis');
    const n = c?.opened ?? 0;
    const atSize = n >= 9_900;
    const sizeNote = atSize ? (n < 10_000 ? r.streams.capNote : undefined) : `measured at ${fmtInt(n)} streams (${r.mode} mode), per-stream figures`;
    out.push({
      target: '10,000 open streams: ≤ 30 KB RSS per stream',
      figure: `${fmtBytes(c?.rssPerStream)} per stream at ${fmtInt(n)} streams${redisCell ? `; with the Redis stream log ${fmtBytes(redisCell.rssPerStream)} at ${fmtInt(redisCell.opened)}` : ''}`,
      met: c && Number.isFinite(c.rssPerStream) ? ([c, redisCell].every((x) => !x || x.rssPerStream <= 30 * 1024) ? 'yes' : 'no') : 'n/a',
      ...(sizeNote ? { note: sizeNote } : {}),
    });
    out.push({
      target: '10,000 open streams: event-loop delay p99 < 50 ms',
      figure: `${fmtMs(c?.eldP99, 1)} ms over ${r.streams.windowS} s (max ${fmtMs(c?.eldMax, 1)} ms; net of the 10 ms sampling interval)`,
      met: c && Number.isFinite(c.eldP99) ? (c.eldP99 < 50 ? 'yes' : 'no') : 'n/a',
      ...(sizeNote ? { note: sizeNote } : {}),
    });
  }
  if (r.store) {
    const op = r.store.ops.find((o) => o.id === 'conv-list-user');
    const heavy = r.store.ops.find((o) => o.id === 'conv-list-heavy');
    out.push({
      target: 'conversation list at 100,000 conversations, p50 < 2 ms',
      figure: `${fmtMs(op?.summary.p50)} ms (user with ~${Math.round((r.store.conversations - r.store.heavyUserConversations) / 1000)} convs); ${fmtMs(heavy?.summary.p50)} ms (user with ${fmtInt(r.store.heavyUserConversations)})`,
      met: op ? (Math.max(op.summary.p50, heavy?.summary.p50 ?? 0) < 2 ? 'yes' : 'no') : 'n/a',
      ...(r.store.conversations < 100_000 ? { note: `measured at ${fmtInt(r.store.conversations)} conversations (${r.mode} mode)` } : {}),
    });
  }
  return out;
}

/** The latest run of each mode, full first. */
export function renderResults(reports: BenchReport[]): string {
  const L: string[] = ['# Benchmark results', ''];
  L.push(
    'Generated by `pnpm bench` (quick) and `pnpm bench --full` — do not edit by hand; each run replaces its own section. ' +
      'How the harness works and what the figures mean: [README.md](README.md); CPU profiles: [PROFILE.md](PROFILE.md).',
    '',
  );
  if (reports.length > 1) {
    L.push(`Sections: ${reports.map((r) => `[${r.mode} run](#${r.mode}-run-pnpm-bench${r.mode === 'full' ? '---full' : ''})`).join(', ')}.`, '');
  }
  for (const r of reports) {
    L.push(`## ${r.mode === 'full' ? 'Full' : 'Quick'} run (\`pnpm bench${r.mode === 'full' ? ' --full' : ''}\`)`, '');
    // One level deeper under the run's heading.
    L.push(...renderRun(r).map((line) => (line.startsWith('#') ? `#${line}` : line)));
  }
  return `${L.join('\n')}\n`;
}

function renderRun(r: BenchReport): string[] {
  const L: string[] = [];
  const m = r.machine;
  L.push(row(['', '']), row(['---', '---']));
  L.push(row(['mode', `${r.mode}${r.mode === 'quick' ? ' (shorter runs and smaller sizes, noted per scenario; `pnpm bench --full` for everything)' : ''}`]));
  L.push(row(['date', `${r.startedAt} → ${r.finishedAt ?? '?'}`]));
  L.push(row(['machine', `${m.cores} × ${m.cpuModel}, ${(m.totalMemBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${m.platform}`]));
  L.push(row(['node', m.node]));
  L.push(row(['load average (1/5/15 min)', `before ${r.loadBefore.map((l) => l.toFixed(2)).join(' / ')}; after ${r.loadAfter.map((l) => l.toFixed(2)).join(' / ')}`]));
  L.push(row(['code', `git ${r.git.commit}${r.git.dirty ? ' + uncommitted changes in apps/ or packages/' : ''}`]));
  for (const x of r.reruns ?? []) {
    L.push(
      row([
        're-run',
        `scenario(s) ${x.scenarios} re-run at ${x.startedAt} (git ${x.git.commit}${x.git.dirty ? ' + uncommitted changes' : ''}; load average before ${x.loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after ${x.loadAfter.map((l) => l.toFixed(2)).join(' / ')}); their figures below are from that run`,
      ]),
    );
  }
  L.push(
    row([
      'setup',
      `load generator, mock upstreams, floor, peer and Colloquy all on this machine, each its own process; Colloquy runs as \`node --import tsx apps/server/src/main.ts\` with LOG_LEVEL=warn, SQLite (${r.sqliteDriver ?? 'better-sqlite3'}) in a temp DATA_DIR, rate limit and per-user turn limit off`,
    ]),
  );
  L.push('');

  L.push('## Targets', '');
  L.push(row(['target', 'figure', 'met', 'note']), row(['---', '---', '---', '---']));
  for (const t of evaluateTargets(r)) L.push(row([t.target, t.figure, t.met === 'yes' ? '✅ yes' : t.met === 'no' ? '❌ no' : 'n/a', t.note ?? '']));
  L.push('');

  if (r.latency) latencySection(L, r.latency);
  if (r.runtime) {
    const { tsx, bundle } = r.runtime;
    L.push('### tsx loader vs prebuilt bundle (REST `/converse` blocking)', '');
    L.push(`${tsx.runs} interleaved runs × ${fmtInt(tsx.perRun)} requests each, after 300 warm-up requests.`, '');
    L.push(row(['runtime', 'p50 ms', 'p99 ms', 'p50 range over runs']), row(['---', '---:', '---:', '---']));
    L.push(row(['`node --import tsx apps/server/src/main.ts`', fmtMs(tsx.p50), fmtMs(tsx.p99), `${fmtMs(tsx.p50Min)}–${fmtMs(tsx.p50Max)}`]));
    L.push(row(['esbuild bundle, plain `node`', fmtMs(bundle.p50), fmtMs(bundle.p99), `${fmtMs(bundle.p50Min)}–${fmtMs(bundle.p50Max)}`]));
    L.push('');
  }
  if (r.load) loadSection(L, r);
  if (r.streams) streamsSection(L, r.streams, r.mode);
  if (r.relay) relaySection(L, r.relay);
  if (r.store) storeSection(L, r.store, r.mode);
  if (r.instances) instancesSection(L, r);
  if (r.longConversation) longConversationSection(L, r.longConversation);
  L.push('## How to read this', '');
  L.push(
    '- Overhead = the path\'s p50 minus the direct-to-mock p50 of the same mode (blocking total, or streaming first event). Ratio = the path\'s p50 over the floor\'s p50.',
    '- "First event" is the first event that carries answer text (for the mock: the first `delta.content`; for Colloquy: the first `message` event).',
    '- Every Colloquy turn here is a new conversation (client-chosen `conversation_id`): it is created, both messages are written before the agent runs, the answer is stored at the end. Colloquy\'s `openai` agent always streams from the upstream, also for blocking answers.',
    '- Medians of several runs: the p50 and p99 columns are the median over runs of each run\'s p50 and p99.',
    '- Profiles: `pnpm bench --profile` writes bench/PROFILE.md (top self-time functions of the Colloquy process per workload).',
    '',
  );
  return L;
}

function latencySection(L: string[], s: LatencyResult): void {
  L.push('## 1. One request at a time', '');
  L.push(
    `${s.runs} interleaved runs × ${fmtInt(s.perRun)} sequential requests per path (fewer where noted), after ${s.warmup} warm-up requests; the mock answers ${s.chunks} deltas with no delay. Times in ms. CPU ms / request: user + system CPU time of the process doing that path's work (the mock for direct paths; the gateway alone otherwise) over the measured requests, from /proc/<pid>/stat — less sensitive to other load on the machine than wall-clock times.`,
    '',
  );
  const rows = new Map(s.rows.map((r) => [r.id, r]));
  const overhead = (r: LatencyRow, which: 'total' | 'first') => {
    const base = rows.get(r.baseline);
    if (!base || base.id === r.id) return '';
    return fmtMs((r[which]?.p50 ?? NaN) - (base[which]?.p50 ?? NaN));
  };
  const ratio = (r: LatencyRow, which: 'total' | 'first') => {
    const f = r.floor ? rows.get(r.floor) : undefined;
    if (!f || f.id === r.id) return '';
    return fmtRatio((r[which]?.p50 ?? NaN) / (f[which]?.p50 ?? NaN));
  };
  L.push('### Blocking (whole answer)', '');
  const cpu = (r: LatencyRow) => (r.cpuPerRequest === undefined ? '' : `${fmtMs(r.cpuPerRequest)} (${r.cpuOf})`);
  L.push(
    row(['path', 'n', 'p50', 'p99', 'overhead p50 vs direct', 'ratio to floor p50', 'CPU ms / request']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const r of s.rows.filter((x) => !x.streaming)) {
    if (r.error) L.push(row([r.label, '', '', '', '', `failed: ${r.error.slice(0, 160)}`, '']));
    else L.push(row([r.label, `${r.total?.runs}×${fmtInt(r.total?.perRun)}`, fmtMs(r.total?.p50), fmtMs(r.total?.p99), overhead(r, 'total'), ratio(r, 'total'), cpu(r)]));
  }
  L.push('', '### Streaming', '');
  L.push(
    row(['path', 'n', 'first event p50', 'first event p99', 'first-event overhead p50', 'first ratio to floor', 'total p50', 'total p99', 'total overhead p50', 'CPU ms / request']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const r of s.rows.filter((x) => x.streaming)) {
    if (r.error) L.push(row([r.label, '', '', '', '', '', '', '', `failed: ${r.error.slice(0, 160)}`, '']));
    else
      L.push(
        row([
          r.label,
          `${r.total?.runs}×${fmtInt(r.total?.perRun)}`,
          fmtMs(r.first?.p50),
          fmtMs(r.first?.p99),
          overhead(r, 'first'),
          ratio(r, 'first'),
          fmtMs(r.total?.p50),
          fmtMs(r.total?.p99),
          overhead(r, 'total'),
          cpu(r),
        ]),
      );
  }
  const notes = s.rows.filter((r) => r.note).map((r) => `- ${r.label}: ${r.note}.`);
  if (notes.length) L.push('', ...notes);
  L.push('');
}

function loadSection(L: string[], r: BenchReport): void {
  const s = r.load!;
  L.push('## 2. Load', '');
  L.push(
    `autocannon (in the bench process) for ${s.durationS} s per run${r.mode === 'quick' ? ' (quick mode: shorter than the 10 s of `--full`)' : ''}, ${s.runs} interleaved runs; medians over runs. Colloquy: REST \`/converse\` blocking, each request a new conversation (stored). The load generator shares the 2 cores with the server under test. CPU: the process under test alone (one core = 100 %).`,
    '',
  );
  L.push(
    row(['path', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'vs floor req/s', 'CPU ms / request', 'CPU use', 'failed requests']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const c of s.cells) {
    const floor = s.cells.find((x) => x.target === 'floor' && x.connections === c.connections);
    if (c.error) {
      L.push(row([c.label, c.connections, '', '', '', '', '', '', `failed: ${c.error.slice(0, 120)}`]));
      continue;
    }
    L.push(
      row([
        c.label,
        c.connections,
        fmtInt(c.reqPerSec),
        fmtMs(c.p50, 1),
        fmtMs(c.p99, 1),
        c.target === 'floor' ? '' : `${((c.reqPerSec / (floor?.reqPerSec ?? NaN)) * 100).toFixed(0)} %`,
        fmtMs(c.cpuPerRequest),
        `${(c.cpuUtil * 100).toFixed(0)} %`,
        fmtInt(c.failures),
      ]),
    );
  }
  L.push('');
}

function streamsSection(L: string[], s: StreamsResult, mode: string): void {
  L.push('## 3. Concurrent open streams', '');
  L.push(
    `Slow upstream: the mock sends one delta at once, then one every ${s.delayMs / 1000} s per stream. The bench opens the streams over raw node:http (128 opening at a time), waits until all are open and 2 s more, then measures the gateway process for ${s.windowS} s: RSS once a second from /proc/<pid>/status (VmRSS, median), heap used (mean of the window's first and last probe) and event-loop delay p99 and max over the whole window (one probe at its start resets the histogram, one at its end reads it). Colloquy's probe is its own /metrics (prom-client default metrics, nothing added); the floor's is its /_floor/stats. Both event-loop histograms sample every 10 ms and record the interval too (an idle loop reads 10.1 ms), so 10 ms is subtracted; the raw p99 is in brackets. Per stream = (open − before) / streams.${mode === 'quick' ? ' Quick mode opens fewer streams; the per-stream figures are what scale.' : ''}`,
    '',
  );
  if (s.capNote) L.push(`Note: ${s.capNote}.`, '');
  L.push(
    row(['gateway', 'streams open', 'opened in', 'RSS before → open', 'RSS / stream', 'heap before → open', 'heap / stream', 'event-loop delay p99 / max', 'one probe took', 'fds', 'completed after release']),
    row(['---', '---:', '---:', '---', '---:', '---', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const c of s.cells) {
    L.push(
      row([
        c.label,
        `${fmtInt(c.opened)} / ${fmtInt(c.requested)}`,
        `${(c.openMs / 1000).toFixed(1)} s`,
        `${fmtBytes(c.rssBefore)} → ${fmtBytes(c.rssOpen)}`,
        fmtBytes(c.rssPerStream),
        `${fmtBytes(c.heapBefore)} → ${fmtBytes(c.heapOpen)}`,
        fmtBytes(c.heapPerStream),
        `${fmtMs(c.eldP99, 1)} / ${fmtMs(c.eldMax, 1)} ms (raw p99 ${fmtMs(c.eldP99Raw, 1)})`,
        `${fmtMs(c.probeMs, 1)} ms`,
        `${fmtInt(c.fdsOpen)}${c.redisConnections ? ` (Redis connections ${c.redisConnections.before} → ${c.redisConnections.open})` : ''}`,
        `${fmtInt(c.completed)}${c.error ? ` (${c.error})` : ''}`,
      ]),
    );
  }
  L.push('');
}

function relaySection(L: string[], s: RelayResult): void {
  L.push('## 4. Relay throughput', '');
  L.push(
    `The mock emits ${fmtInt(s.chunksPerStream)} small deltas per stream with no delay (respecting backpressure); ${s.concurrency.join(' and ')} stream(s) at once; answer events counted by the client; median of ${s.runs} runs.`,
    '',
  );
  L.push(row(['path', 'streams', 'events/s', 'vs floor', 'received / sent']), row(['---', '---:', '---:', '---:', '---:']));
  for (const c of s.cells) {
    const floor = s.cells.find((x) => x.target === 'floor' && x.streams === c.streams);
    if (c.error) {
      L.push(row([c.label, c.streams, '', '', `failed: ${c.error.slice(0, 120)}`]));
      continue;
    }
    L.push(row([c.label, c.streams, fmtInt(c.eventsPerSec), c.target === 'floor' ? '' : fmtRatio(c.eventsPerSec / (floor?.eventsPerSec ?? NaN)), `${fmtInt(c.received)} / ${fmtInt(c.expected)}`]));
  }
  L.push('');
}

function storeSection(L: string[], s: StoreResult, mode: string): void {
  L.push('## 5. Store (SQLite)', '');
  L.push(
    `${fmtInt(s.conversations)} conversations and ${fmtInt(s.messages)} messages (10 per conversation) for ${fmtInt(s.users)} users; one user owns ${fmtInt(s.heavyUserConversations)} of them${mode === 'quick' ? ' (quick mode: a tenth of the 100,000 / 1,000,000 of `--full`)' : ''}. Seeded in ${(s.seedMs / 1000).toFixed(1)} s with raw ${s.driver ?? 'better-sqlite3'} inserts into the store's own schema (migrated by openSqliteStore); file ${fmtBytes(s.fileBytes)}. Store calls timed sequentially on openSqliteStore's Store; HTTP calls through a Colloquy child on the same file.`,
    '',
  );
  L.push(row(['operation', 'layer', 'n', 'p50 ms', 'p99 ms']), row(['---', '---', '---:', '---:', '---:']));
  for (const o of s.ops) L.push(row([o.label, o.layer, fmtInt(o.summary.n), fmtMs(o.summary.p50), fmtMs(o.summary.p99)]));
  L.push('');
}

function longConversationSection(L: string[], s: LongConversationResult): void {
  L.push('## 7. A growing conversation', '');
  L.push(
    `One user continues one conversation for ${fmtInt(s.turns)} blocking turns (no \`conversation_id\`: the "current conversation" rule) with the \`openai\` agent on the mock (8 deltas); after every ${fmtInt(s.bucket)} turns, turns in new conversations are timed as the reference. CPU: the gateway process per turn (less sensitive to other load than wall-clock p50). Target: a turn in a 3,000-turn conversation within 1.5× of one in a new conversation.`,
    '',
  );
  L.push(
    row(['turns', 'p50 ms', 'p99 ms', 'CPU ms / turn', 'new conversation p50 ms', 'new conversation CPU ms / turn', 'p50 ratio', 'CPU ratio']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const b of s.buckets) {
    L.push(
      row([
        `${fmtInt(b.from)}–${fmtInt(b.to)}`,
        fmtMs(b.p50),
        fmtMs(b.p99),
        fmtMs(b.cpuPerTurn),
        fmtMs(b.freshP50),
        fmtMs(b.freshCpuPerTurn),
        fmtRatio(b.p50 / b.freshP50),
        fmtRatio(b.cpuPerTurn / b.freshCpuPerTurn),
      ]),
    );
  }
  L.push('');
}

function instancesSection(L: string[], r: BenchReport): void {
  const s = r.instances!;
  L.push('## 6. Several instances (PostgreSQL + Redis)', '');
  if (s.skipped) {
    L.push(`Not run: ${s.skipped}.`, '');
    return;
  }
  L.push(
    `REST \`/converse\` blocking, each request a new conversation, ${s.connections} connections in all, ${s.runs} × ${s.durationS} s runs (median). ` +
      'Two instances: two autocannon clients at 25 connections each, side by side (req/s summed; p50/p99 of the slower half; CPU of both processes). `WORKERS=2`: CPU of the supervisor and both workers. ' +
      'Every process shares this machine\'s 2 cores with the load generator, the mock, PostgreSQL and Redis — and, while this ran, other engineers\' test suites: the figures are noisy, compare them within this table.',
    '',
  );
  L.push(row(['setup', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms / request', 'failures']), row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const c of s.load) L.push(row([c.label, fmtInt(c.reqPerSec), fmtMs(c.p50, 0), fmtMs(c.p99, 0), fmtMs(c.cpuPerRequest), String(c.failures)]));
  // What each setup costs, against the default (one process on SQLite) in the same run.
  const base = s.load.find((c) => c.id === 'single-sqlite');
  if (base && base.reqPerSec > 0) {
    const costs = s.load
      .filter((c) => c.id !== 'single-sqlite' && c.reqPerSec > 0)
      .map((c) => `${c.label}: ${fmtRatio(c.reqPerSec / base.reqPerSec)} the req/s, ${fmtRatio(c.cpuPerRequest / base.cpuPerRequest)} the CPU per request`);
    if (costs.length > 0) L.push('', `What each costs, against one process on SQLite in the same run — ${costs.join('; ')}.`);
  }
  L.push('', `Re-attach: tRPC \`chat.events\` from event 0 of a finished ${s.reattach[0]?.events ?? ''}-event answer, one at a time over a keep-alive connection.`, '');
  L.push(row(['where', 'n', 'first event p50', 'first event p99', 'all events p50', 'all events p99']), row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const c of s.reattach) L.push(row([c.label, fmtInt(c.first.n), fmtMs(c.first.p50), fmtMs(c.first.p99), fmtMs(c.total.p50), fmtMs(c.total.p99)]));
  L.push('');
}
