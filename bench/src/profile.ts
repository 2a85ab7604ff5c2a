/**
 * `pnpm bench --profile`: runs Colloquy under `node --cpu-prof` for one workload at a time and
 * ranks the functions (and packages) by self time, counting only samples taken while the
 * workload ran (not start-up). Writes bench/PROFILE.md. Timings under the profiler are not
 * benchmark figures.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { summarizeProfile, type ProfileSummary } from './lib/cpuprofile.ts';
import { fetchText, keepAliveAgent, messageEventFast, timeStream } from './lib/http.ts';
import type { Child } from './lib/procs.ts';
import { runOpenStreams } from './scenarios/s3-open-streams.ts';
import { benchDir, startColloquy, startFloor, startMock, type Colloquy, type Mock } from './lib/targets.ts';

interface Workload {
  id: string;
  title: string;
  /** What ran; `window` narrows the profile to part of it (else the whole workload counts). */
  run: (ctx: { mock: Mock; floor: Child; colloquy: Colloquy }) => Promise<{ what: string; window?: { fromUs: number; toUs: number } }>;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runProfiles(opts: { full: boolean; log: (s: string) => void; only: Set<string> | undefined }): Promise<void> {
  const { log } = opts;
  const body = () =>
    JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'bench-prof', conversation_id: randomUUID() });
  const workloads: Workload[] = [
    {
      id: 'blocking',
      title: 'REST `/converse` blocking, one request at a time (scenario 1)',
      run: async ({ colloquy }) => {
        const agent = keepAliveAgent(1);
        const n = opts.full ? 10_000 : 4000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await fetchText(agent, { method: 'POST', url: `${colloquy.url}/converse`, body: body() });
        return { what: `${n} sequential requests, ${((performance.now() - t0) / n).toFixed(3)} ms each under the profiler` };
      },
    },
    {
      id: 'load',
      title: 'REST `/converse` blocking at 50 connections (scenario 2)',
      run: async ({ colloquy }) => {
        const r = await autocannon({
          url: colloquy.url,
          connections: 50,
          duration: opts.full ? 10 : 6,
          requests: [{ method: 'POST', path: '/converse', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: body() }) }],
        });
        return { what: `${Math.round(r.requests.average)} req/s under the profiler, ${r.non2xx + r.errors} failed` };
      },
    },
    {
      id: 'streams',
      title: 'open streams, steady state (scenario 3)',
      run: async ({ mock, floor, colloquy }) => {
        const r = await runOpenStreams({ mock, floor, colloquy, streams: opts.full ? 10_000 : 2000, delayMs: 5000, windowS: 8, log, colloquyOnly: true });
        const c = r.cells[0]!;
        return {
          what: `${c.opened} streams open, steady state only (opening and release not counted); RSS/stream ${(c.rssPerStream / 1024).toFixed(1)} KB, event-loop delay p99 ${c.eldP99.toFixed(1)} ms (max ${c.eldMax.toFixed(1)} ms) under the profiler`,
          window: c.windowUs,
        };
      },
    },
    {
      id: 'relay',
      title: 'relay throughput, one REST NDJSON stream (scenario 4)',
      run: async ({ mock, colloquy }) => {
        const chunks = opts.full ? 400_000 : 200_000;
        await mock.configure({ chunks, delayMs: 0 });
        const t0 = performance.now();
        const t = await timeStream(
          keepAliveAgent(1),
          { method: 'POST', url: `${colloquy.url}/converse`, body: JSON.stringify({ query: 'Stream a lot.', response_mode: 'streaming', user: 'bench-prof', conversation_id: randomUUID() }) },
          'ndjson',
          messageEventFast,
          { countAll: true },
        );
        await mock.configure({ chunks: 8, delayMs: 0 });
        return { what: `${t.answers} events in ${((performance.now() - t0) / 1000).toFixed(2)} s = ${Math.round(t.answers / ((performance.now() - t0) / 1000))} events/s under the profiler` };
      },
    },
    {
      id: 'relay-trpc',
      title: 'relay throughput, one tRPC `chat.send` + `chat.events` SSE stream (scenario 4)',
      run: async ({ mock, colloquy }) => {
        const chunks = opts.full ? 100_000 : 50_000;
        await mock.configure({ chunks, delayMs: 0 });
        const agent = keepAliveAgent(1);
        const t0 = performance.now();
        const sent = await fetchText(agent, {
          method: 'POST',
          url: `${colloquy.url}/trpc/chat.send`,
          body: JSON.stringify({ query: 'Stream a lot.', user: 'bench-prof', conversationId: randomUUID() }),
        });
        const messageId = (JSON.parse(sent.body) as { result: { data: { messageId: string } } }).result.data.messageId;
        const input = encodeURIComponent(JSON.stringify({ messageId, user: 'bench-prof' }));
        const t = await timeStream(
          agent,
          { method: 'GET', url: `${colloquy.url}/trpc/chat.events?input=${input}`, headers: { accept: 'text/event-stream' } },
          'sse',
          messageEventFast,
          { countAll: true },
        );
        await mock.configure({ chunks: 8, delayMs: 0 });
        const s = (performance.now() - t0) / 1000;
        return { what: `${t.answers} events in ${s.toFixed(2)} s = ${Math.round(t.answers / s)} events/s under the profiler` };
      },
    },
  ];
  const mock = await startMock();
  const floor = await startFloor(mock.url);
  const L: string[] = ['# CPU profiles of Colloquy', ''];
  L.push(
    `Generated by \`pnpm bench --profile${opts.full ? ' --full' : ''}\` on ${new Date().toISOString()} (${os.cpus().length} cores, node ${process.version}, load average before ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}).`,
    'Colloquy runs under `node --cpu-prof`; only samples taken while the workload ran are counted. Self time = time spent in the function itself (not its callees). Shares are of the non-idle time.',
    '',
  );
  try {
    for (const w of workloads) {
      if (opts.only && !opts.only.has(w.id)) continue;
      log(`profile: ${w.title}`);
      const dir = mkdtempSync(join(os.tmpdir(), 'colloquy-bench-prof-'));
      const colloquy = await startColloquy({ mockUrl: mock.url, cpuProfDir: dir });
      let summary: ProfileSummary | undefined;
      let what = '';
      try {
        // Warm-up outside the window.
        const agent = keepAliveAgent(1);
        for (let i = 0; i < 300; i++) await fetchText(agent, { method: 'POST', url: `${colloquy.url}/converse`, body: body() });
        const fromUs = nowUs();
        const out = await w.run({ mock, floor, colloquy });
        const toUs = nowUs();
        what = out.what;
        await colloquy.dispose();
        // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (under
        // tsx, thread 1 is the module loader's hooks thread).
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
        if (!file) throw new Error('no .cpuprofile written (did the server exit cleanly?)');
        summary = summarizeProfile(join(dir, file), 25, out.window ?? { fromUs, toUs });
      } finally {
        await colloquy.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
      L.push(`## ${w.title}`, '', `${what}. Busy (non-idle) CPU in the window: ${(summary.busyMs / 1000).toFixed(2)} s of ${(summary.totalMs / 1000).toFixed(2)} s sampled.`, '');
      L.push('| self time by package | ms | share |', '| --- | ---: | ---: |');
      for (const p of summary.packages.slice(0, 12)) L.push(`| ${p.name} | ${p.ms.toFixed(0)} | ${(p.share * 100).toFixed(1)} % |`);
      L.push('', '| top functions by self time | where | ms | share |', '| --- | --- | ---: | ---: |');
      for (const f of summary.functions) L.push(`| \`${f.name}\` | ${f.where} | ${f.ms.toFixed(0)} | ${(f.share * 100).toFixed(1)} % |`);
      L.push('');
    }
  } finally {
    await floor.stop();
    await mock.stop();
  }
  const out = join(benchDir, 'PROFILE.md');
  writeFileSync(out, `${L.join('\n')}\n`);
  log(`wrote ${out}`);
}
