/**
 * `pnpm bench` (quick) and `pnpm bench --full`: every scenario side by side in one run, results
 * in bench/RESULTS.md. `--only=1,3` runs a subset (RESULTS.md is then not overwritten unless
 * `--write`); `--profile` runs the profiling workloads instead and writes bench/PROFILE.md;
 * `--smoke` runs every scenario with tiny counts to check the harness (nothing written).
 * Only 127.0.0.1 is ever targeted; every load loop is bounded by a count or a duration.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { bundleServer } from './lib/bundle.ts';
import { killAll, type Child } from './lib/procs.ts';
import { renderResults, type BenchReport } from './report.ts';
import { runProfiles } from './profile.ts';
import { runLatency } from './scenarios/s1-latency.ts';
import { runLoad } from './scenarios/s2-load.ts';
import { runOpenStreams } from './scenarios/s3-open-streams.ts';
import { runRelay } from './scenarios/s4-relay.ts';
import { runStore } from './scenarios/s5-store.ts';
import { runInstances } from './scenarios/s6-instances.ts';
import { runLongConversation } from './scenarios/s7-long-conversation.ts';
import { benchDir, repoRoot, startColloquy, startFloor, startMock, startPeer } from './lib/targets.ts';
import { loadSqliteDriver, SQLITE_DRIVER_CHOICES, type SqliteDriverChoice } from '@colloquy/store';
import { dropRedisPrefix, freshRedisPrefix, testServices } from '@colloquy/testing';

export interface ModeParams {
  s1: { runs: number; perRun: number; warmup: number };
  s2: { durationS: number; runs: number; connections: number[] };
  s3: { streams: number; delayMs: number; windowS: number };
  s4: { chunks: number; concurrency: number[]; runs: number };
  s5: { conversations: number; samples: number; httpSamples: number };
  s6: { durationS: number; runs: number; reattachSamples: number };
  s7: { turns: number; bucket: number; fresh: number };
  runtimeCheck: { runs: number; perRun: number };
}

const QUICK: ModeParams = {
  s1: { runs: 3, perRun: 1000, warmup: 200 },
  s2: { durationS: 5, runs: 2, connections: [50, 200] },
  s3: { streams: 1000, delayMs: 5000, windowS: 5 },
  s4: { chunks: 50_000, concurrency: [1, 4], runs: 3 },
  s5: { conversations: 10_000, samples: 2000, httpSamples: 1000 },
  s6: { durationS: 5, runs: 2, reattachSamples: 200 },
  s7: { turns: 3000, bucket: 500, fresh: 100 },
  runtimeCheck: { runs: 3, perRun: 1000 },
};

const FULL: ModeParams = {
  s1: { runs: 5, perRun: 2000, warmup: 500 },
  s2: { durationS: 10, runs: 3, connections: [50, 200] },
  s3: { streams: 10_000, delayMs: 5000, windowS: 10 },
  s4: { chunks: 200_000, concurrency: [1, 4], runs: 3 },
  s5: { conversations: 100_000, samples: 5000, httpSamples: 2000 },
  s6: { durationS: 10, runs: 3, reattachSamples: 500 },
  s7: { turns: 3000, bucket: 500, fresh: 200 },
  runtimeCheck: { runs: 5, perRun: 2000 },
};

/** `--smoke`: tiny counts that only check the harness works end to end (never written to RESULTS.md). */
const SMOKE: ModeParams = {
  s1: { runs: 2, perRun: 50, warmup: 10 },
  s2: { durationS: 1, runs: 1, connections: [50, 200] },
  s3: { streams: 200, delayMs: 1000, windowS: 2 },
  s4: { chunks: 5000, concurrency: [1, 4], runs: 1 },
  s5: { conversations: 2000, samples: 200, httpSamples: 100 },
  s6: { durationS: 1, runs: 1, reattachSamples: 20 },
  s7: { turns: 100, bucket: 50, fresh: 10 },
  runtimeCheck: { runs: 1, perRun: 50 },
};

function arg(name: string): string | undefined {
  const hit = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
}

const log = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const full = arg('full') !== undefined;
  const smoke = arg('smoke') !== undefined;
  const mode: BenchReport['mode'] = full ? 'full' : 'quick';
  const params = structuredClone(smoke ? SMOKE : full ? FULL : QUICK);
  // `--streams=N`: scenario 3 at another size than the mode's (e.g. 5,000 in quick mode).
  const streamsArg = arg('streams');
  if (streamsArg !== undefined) params.s3.streams = Number(streamsArg);
  const onlyArg = arg('only');
  const only = onlyArg ? new Set(onlyArg.split(',').map((s) => s.trim())) : undefined;
  const want = (s: string) => !only || only.has(s);
  // `--sqlite-driver=libsql` (or SQLITE_DRIVER): the SQLite driver of every Colloquy child and of scenario 5.
  const sqliteDriver = arg('sqlite-driver') ?? process.env.SQLITE_DRIVER ?? 'auto';
  if (!(SQLITE_DRIVER_CHOICES as readonly string[]).includes(sqliteDriver)) {
    throw new Error(`--sqlite-driver must be one of ${SQLITE_DRIVER_CHOICES.join(', ')}`);
  }
  process.env.SQLITE_DRIVER = sqliteDriver;
  const colloquyRoot = arg('colloquy-root');
  if (colloquyRoot) process.env.BENCH_COLLOQUY_ROOT = colloquyRoot;
  const sqliteDriverName = (await loadSqliteDriver(sqliteDriver as SqliteDriverChoice)).name;
  if (arg('profile') !== undefined) {
    await runProfiles({ full, log, only });
    return;
  }

  const startedAt = new Date();
  const load0 = os.loadavg();
  log(
    `colloquy bench: ${mode} mode${only ? ` (scenarios ${[...only].join(',')})` : ''}; SQLite on ${sqliteDriverName}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const report: BenchReport = {
    mode,
    startedAt: startedAt.toISOString(),
    machine: machine(),
    loadBefore: load0,
    loadAfter: [],
    git: gitState(),
    sqliteDriver: sqliteDriverName,
    params,
  };

  const mock = await startMock();
  const floor = await startFloor(mock.url);
  let peer: Child | undefined;
  try {
    peer = await startPeer();
  } catch (err) {
    report.peerError = err instanceof Error ? err.message.split('\n')[0] : String(err);
    log(`peer failed to start: ${report.peerError}`);
  }
  log(`mock ${mock.url}, floor ${floor.url}${peer ? `, peer ${peer.url}` : ''}`);

  try {
    if (want('1')) {
      log('scenario 1: one request at a time');
      const colloquy = await startColloquy({ mockUrl: mock.url });
      try {
        report.latency = await runLatency({ mock, floor, colloquy, peer, peerError: report.peerError, ...params.s1, log });
      } finally {
        await colloquy.dispose();
      }
    }
    if (want('tsx')) {
      // Does running through tsx's loader cost anything once warm? Same request, tsx vs a prebuilt bundle.
      log('runtime check: tsx loader vs prebuilt bundle');
      const dir = mkdtempSync(join(os.tmpdir(), 'colloquy-bench-bundle-'));
      try {
        const bundlePath = await bundleServer(dir);
        report.runtime = await runtimeCheck(mock, bundlePath, params.runtimeCheck);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (want('2')) {
      log(`scenario 2: load (${params.s2.durationS} s per run)`);
      const colloquy = await startColloquy({ mockUrl: mock.url });
      try {
        report.load = await runLoad({ mock, floor, colloquy, peer, peerError: report.peerError, ...params.s2, log });
      } finally {
        await colloquy.dispose();
      }
    }
    if (want('3')) {
      log(`scenario 3: ${params.s3.streams.toLocaleString('en-US')} open streams`);
      // Fresh processes: RSS only grows, so a floor that already served scenarios 1–2 would
      // show no growth at all.
      const colloquy = await startColloquy({ mockUrl: mock.url });
      const freshFloor = await startFloor(mock.url);
      // The same server with the stream log in Redis (REDIS_URL), when a Redis is there.
      const { redis } = await testServices();
      const redisPrefix = freshRedisPrefix();
      const colloquyRedis = redis ? await startColloquy({ mockUrl: mock.url, env: { REDIS_URL: redis, REDIS_PREFIX: redisPrefix } }) : undefined;
      if (!redis) log('  scenario 3: no Redis (TEST_REDIS_URL or the local default): the Redis stream log row is left out');
      try {
        report.streams = await runOpenStreams({
          mock,
          floor: freshFloor,
          colloquy,
          ...(colloquyRedis && redis ? { colloquyRedis: { child: colloquyRedis, redisPort: Number(new URL(redis).port || 6379) } } : {}),
          ...params.s3,
          log,
        });
      } finally {
        await colloquy.dispose();
        await colloquyRedis?.dispose();
        if (redis) await dropRedisPrefix(redis, redisPrefix).catch(() => undefined);
        await freshFloor.stop();
      }
    }
    if (want('4')) {
      log('scenario 4: relay throughput');
      const colloquy = await startColloquy({ mockUrl: mock.url });
      try {
        report.relay = await runRelay({ mock, floor, colloquy, ...params.s4, log });
      } finally {
        await colloquy.dispose();
      }
    }
    if (want('5')) {
      log(`scenario 5: store with ${params.s5.conversations.toLocaleString('en-US')} conversations`);
      report.store = await runStore({ ...params.s5, mockUrl: mock.url, sqliteDriver: sqliteDriver as SqliteDriverChoice, log });
    }
    if (want('6')) {
      log('scenario 6: several instances (PostgreSQL + Redis)');
      report.instances = await runInstances({ mock, ...params.s6, log });
      if (report.instances.skipped) log(`  scenario 6 skipped: ${report.instances.skipped}`);
    }
    if (want('7')) {
      log(`scenario 7: one conversation of ${params.s7.turns.toLocaleString('en-US')} turns`);
      const colloquy = await startColloquy({ mockUrl: mock.url });
      try {
        report.longConversation = await runLongConversation({ mock, colloquy, ...params.s7, log });
      } finally {
        await colloquy.dispose();
      }
    }
  } finally {
    await peer?.stop();
    await floor.stop();
    await mock.stop();
  }
  report.loadAfter = os.loadavg();
  report.finishedAt = new Date().toISOString();
  const md = renderResults([report]);
  const target = join(benchDir, 'RESULTS.md');
  if (!smoke && (!only || arg('write') !== undefined)) {
    // RESULTS.md shows the latest run of each mode: a quick run does not hide the last full one.
    // A subset run with --write replaces only its scenarios in that mode's latest results.
    let toSave: BenchReport = report;
    if (only) {
      try {
        const previous = JSON.parse(readFileSync(join(benchDir, `results-${mode}.json`), 'utf8')) as BenchReport;
        const keys = ['latency', 'runtime', 'load', 'streams', 'relay', 'store', 'instances', 'longConversation'] as const;
        toSave = { ...previous };
        for (const k of keys) if (report[k] !== undefined) (toSave as unknown as Record<string, unknown>)[k] = report[k];
        toSave.reruns = [
          ...(previous.reruns ?? []),
          { scenarios: [...only].join(','), startedAt: report.startedAt, loadBefore: report.loadBefore, loadAfter: report.loadAfter, git: report.git },
        ];
      } catch {
        // No earlier results of this mode: the subset stands alone.
      }
    }
    writeFileSync(join(benchDir, `results-${mode}.json`), `${JSON.stringify(toSave, null, 2)}\n`);
    const reports = (['full', 'quick'] as const).flatMap((m) => {
      try {
        return [JSON.parse(readFileSync(join(benchDir, `results-${m}.json`), 'utf8')) as BenchReport];
      } catch {
        return [];
      }
    });
    writeFileSync(target, renderResults(reports));
    log(`\nwrote ${target} and bench/results-${mode}.json`);
  } else {
    const partial = join(os.tmpdir(), `colloquy-bench-${mode}-partial.md`);
    writeFileSync(partial, md);
    log(`\n(${smoke ? 'smoke' : 'subset'} run: RESULTS.md left alone; this run's report is in ${partial})`);
  }
  log(md.slice(md.indexOf('## Targets')));
}

async function runtimeCheck(
  mock: Awaited<ReturnType<typeof startMock>>,
  bundlePath: string,
  p: ModeParams['runtimeCheck'],
): Promise<NonNullable<BenchReport['runtime']>> {
  const { fetchText, keepAliveAgent } = await import('./lib/http.ts');
  const { summarize, summarizeRuns } = await import('./lib/stats.ts');
  const { randomUUID } = await import('node:crypto');
  const tsx = await startColloquy({ mockUrl: mock.url });
  const bundle = await startColloquy({ mockUrl: mock.url, runtime: 'bundle', bundlePath });
  try {
    const sides = [
      { id: 'tsx', child: tsx, agent: keepAliveAgent(1), runs: [] as ReturnType<typeof summarize>[] },
      { id: 'bundle', child: bundle, agent: keepAliveAgent(1), runs: [] as ReturnType<typeof summarize>[] },
    ];
    const once = async (s: (typeof sides)[number]) =>
      (
        await fetchText(s.agent, {
          method: 'POST',
          url: `${s.child.url}/converse`,
          body: JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'bench-rt', conversation_id: randomUUID() }),
        })
      ).ms;
    for (const s of sides) for (let i = 0; i < 300; i++) await once(s);
    for (let r = 0; r < p.runs; r++) {
      for (const s of sides) {
        const t: number[] = [];
        for (let i = 0; i < p.perRun; i++) t.push(await once(s));
        s.runs.push(summarize(t));
      }
    }
    return { tsx: summarizeRuns(sides[0]!.runs), bundle: summarizeRuns(sides[1]!.runs) };
  } finally {
    await tsx.dispose();
    await bundle.dispose();
  }
}

function machine(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function gitState(): BenchReport['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'packages'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    killAll();
    process.exit(1);
  },
);
