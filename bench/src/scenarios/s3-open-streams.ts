/**
 * Scenario 3: many concurrent open streams against a slow upstream (the mock in hold mode: one
 * delta at once, then one every `delayMs` per stream). The load generator is raw node:http with
 * unlimited sockets. Measured on the gateway child: RSS from /proc/<pid>/status (VmRSS), heap
 * used and event-loop delay p99 from Colloquy's /metrics (prom-client default metrics; the
 * event-loop histogram is reset at every scrape, so each 1 s scrape gives that second's p99).
 * The floor proxy is measured the same way as a reference (its own /_floor/stats).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { fetchText, keepAliveAgent } from '../lib/http.ts';
import { fdCount, fdLimit, rssOf, sleep, tcpConnectionsTo, type Child } from '../lib/procs.ts';
import { median } from '../lib/stats.ts';
import { metricValue, scrapeMetrics, type Colloquy, type Mock } from '../lib/targets.ts';

export interface StreamsCell {
  /** `colloquy-redis`: the same server with REDIS_URL set (the stream log in Redis Streams). */
  target: 'colloquy' | 'colloquy-redis' | 'floor';
  label: string;
  requested: number;
  opened: number;
  openMs: number;
  rssBefore: number;
  rssOpen: number;
  heapBefore: number;
  heapOpen: number;
  rssPerStream: number;
  heapPerStream: number;
  /**
   * Event-loop delay p99 and max over the whole window while every stream was open (ms), net of
   * the 10 ms sampling interval (see ELD_RESOLUTION_MS).
   */
  eldP99: number;
  eldMax: number;
  /** p99 as the histogram reports it (interval included). */
  eldP99Raw: number;
  /** How long one probe (a /metrics scrape for Colloquy) took at this many streams, ms. */
  probeMs: number;
  fdsOpen: number;
  /** Connections to Redis before and while every stream was open (colloquy-redis only). */
  redisConnections?: { before: number; open: number };
  /** Streams that ended properly after release (answer complete). */
  completed: number;
  /** The steady-state sampling window, µs on the process.hrtime clock (for profiles). */
  windowUs: { fromUs: number; toUs: number };
  error?: string;
}

export interface StreamsResult {
  cells: StreamsCell[];
  delayMs: number;
  windowS: number;
  fdLimit: number;
  /** Why fewer streams than asked, when so. */
  capNote?: string;
}

interface OpenStream {
  req: ClientRequest;
  res?: IncomingMessage;
  opened: boolean;
  ended: boolean;
}

export async function runOpenStreams(opts: {
  mock: Mock;
  colloquy: Colloquy;
  /** Colloquy with the Redis stream log (REDIS_URL), a fresh process; its row is left out without it. */
  colloquyRedis?: { child: Colloquy; redisPort: number };
  floor: Child;
  streams: number;
  delayMs: number;
  windowS: number;
  log: (s: string) => void;
  /** Skip the floor's reference measurement (profiling). */
  colloquyOnly?: boolean;
}): Promise<StreamsResult> {
  const limit = Math.min(fdLimit(opts.colloquy.pid), fdLimit(opts.floor.pid), fdLimit());
  // The gateway holds two sockets per stream (client + upstream) besides its own files.
  const base = Math.max(fdCount(opts.colloquy.pid), fdCount(opts.floor.pid), opts.colloquyRedis ? fdCount(opts.colloquyRedis.child.pid) : 0);
  const cap = Math.floor((limit - base - 64) / 2);
  const n = Math.min(opts.streams, cap);
  const capNote =
    n < opts.streams
      ? `asked for ${opts.streams.toLocaleString('en-US')} streams, ran ${n.toLocaleString('en-US')}: a gateway needs two sockets per stream (client + upstream) and the open-files hard limit here is ${limit} (ulimit -Hn; cannot be raised without CAP_SYS_RESOURCE)`
      : undefined;
  if (capNote) opts.log(`  scenario 3: ${capNote}`);
  const cells: StreamsCell[] = [];
  cells.push(await measure('colloquy', opts.colloquy, opts, n));
  if (opts.colloquyRedis) cells.push(await measure('colloquy-redis', opts.colloquyRedis.child, opts, n, opts.colloquyRedis.redisPort));
  if (!opts.colloquyOnly) cells.push(await measure('floor', opts.floor, opts, n));
  return { cells, delayMs: opts.delayMs, windowS: opts.windowS, fdLimit: limit, ...(capNote ? { capNote } : {}) };
}

/**
 * prom-client's event-loop histogram (monitorEventLoopDelay, resolution 10 ms) records the time
 * between its timer's ticks, interval included: an idle loop reads ~10.1 ms. The delay is that
 * minus 10 ms. The floor's own monitor uses the same resolution.
 */
const ELD_RESOLUTION_MS = 10;

interface Probe {
  rss: number;
  heap: number;
  /** Event-loop delay since the previous probe (each probe resets the histogram), raw. */
  eldP99Ms: number;
  eldMaxMs: number;
  ms: number;
}

async function probe(target: StreamsCell['target'], child: Child): Promise<Probe> {
  const t0 = performance.now();
  if (target !== 'floor') {
    const text = await scrapeMetrics(child.url);
    return {
      rss: rssOf(child.pid),
      heap: metricValue(text, 'nodejs_heap_size_used_bytes'),
      eldP99Ms: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      eldMaxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
      ms: performance.now() - t0,
    };
  }
  const { body } = await fetchText(statsAgent, { method: 'GET', url: `${child.url}/_floor/stats` });
  const s = JSON.parse(body) as { heapUsed: number; eldP99Ms: number; eldMaxMs: number };
  return { rss: rssOf(child.pid), heap: s.heapUsed, eldP99Ms: s.eldP99Ms, eldMaxMs: s.eldMaxMs, ms: performance.now() - t0 };
}
const statsAgent = keepAliveAgent(1);

const LABELS: Record<StreamsCell['target'], string> = {
  colloquy: 'Colloquy REST `/converse` NDJSON',
  'colloquy-redis': 'Colloquy REST `/converse` NDJSON, Redis stream log',
  floor: 'floor (bare node:http proxy), SSE',
};

async function measure(
  target: StreamsCell['target'],
  child: Child,
  opts: { mock: Mock; delayMs: number; windowS: number; log: (s: string) => void },
  n: number,
  redisPort?: number,
): Promise<StreamsCell> {
  const label = LABELS[target];
  const redisBefore = redisPort ? tcpConnectionsTo(child.pid, redisPort) : 0;
  // Streams end by themselves after maxHoldMs even if the bench dies before releasing them.
  await opts.mock.configure({ hold: true, delayMs: opts.delayMs, maxHoldMs: 180_000 });
  await sleep(1000);
  const before: Array<{ rss: number; heap: number }> = [];
  for (let i = 0; i < 3; i++) {
    before.push(await probe(target, child));
    await sleep(300);
  }
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const streams: OpenStream[] = [];
  const started = performance.now();
  let failed: string | undefined;
  // Opening: at most 128 streams waiting for their first event at a time.
  let next = 0;
  let waiting = 0;
  const openDeadline = Date.now() + 240_000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!failed && waiting < 128 && next < n) {
        next += 1;
        waiting += 1;
        const s = openOne(target, child.url, agent, () => {
          waiting -= 1;
          pump();
        }, (err) => {
          failed ??= err;
          waiting -= 1;
          pump();
        });
        streams.push(s);
      }
      if ((next >= n || failed) && waiting === 0) resolve();
    };
    pump();
    const guard = setInterval(() => {
      if (Date.now() > openDeadline) {
        failed ??= `opening timed out with ${streams.filter((s) => s.opened).length} open`;
        clearInterval(guard);
        resolve();
      }
      if ((next >= n || failed) && waiting === 0) clearInterval(guard);
    }, 500);
  });
  const openMs = performance.now() - started;
  const opened = streams.filter((s) => s.opened && !s.ended).length;
  opts.log(`  scenario 3: ${target}: ${opened}/${n} streams open in ${(openMs / 1000).toFixed(1)} s${failed ? ` (${failed})` : ''}`);

  // Steady state: let the opening settle, then one probe to reset the event-loop histogram, RSS
  // from /proc once a second (outside the process: it perturbs nothing), and one probe at the
  // end for the window's event-loop delay and heap. Probing in-process only twice matters: at
  // 10,000 streams one /metrics scrape (prom-client's default metrics enumerate every handle
  // and every open fd) blocks the loop for tens of ms, and once a second it would dominate p99.
  await sleep(2000);
  const first = await probe(target, child);
  const rssDuring: number[] = [];
  let fds = 0;
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  for (let i = 0; i < opts.windowS; i++) {
    await sleep(1000);
    rssDuring.push(rssOf(child.pid));
    if (i === 0) fds = fdCount(child.pid);
  }
  const redisOpen = redisPort ? tcpConnectionsTo(child.pid, redisPort) : 0;
  const last = await probe(target, child);
  const toUs = Number(process.hrtime.bigint() / 1000n);

  // Release: the mock ends every stream properly; the gateway completes (and Colloquy stores) them.
  await opts.mock.release();
  const endBy = Date.now() + 120_000;
  while (streams.some((s) => s.opened && !s.ended) && Date.now() < endBy) await sleep(200);
  const completed = streams.filter((s) => s.res?.complete).length;
  for (const s of streams) if (!s.ended) s.req.destroy();
  agent.destroy();
  if (target !== 'floor') {
    // Wait until every turn is finished and stored before the next measurement.
    const turnsBy = Date.now() + 60_000;
    while (Date.now() < turnsBy) {
      const active = metricValue(await scrapeMetrics(child.url), 'colloquy_turns_active');
      if (!(active > 0)) break;
      await sleep(250);
    }
  }
  await opts.mock.configure({ chunks: 8, delayMs: 0 });

  const rssBefore = median(before.map((b) => b.rss));
  const heapBefore = median(before.map((b) => b.heap));
  const rssOpen = median(rssDuring);
  const heapOpen = (first.heap + last.heap) / 2;
  return {
    target,
    label,
    requested: n,
    opened,
    openMs,
    rssBefore,
    rssOpen,
    heapBefore,
    heapOpen,
    rssPerStream: opened > 0 ? (rssOpen - rssBefore) / opened : NaN,
    heapPerStream: opened > 0 ? (heapOpen - heapBefore) / opened : NaN,
    eldP99: Math.max(0, last.eldP99Ms - ELD_RESOLUTION_MS),
    eldMax: Math.max(0, last.eldMaxMs - ELD_RESOLUTION_MS),
    eldP99Raw: last.eldP99Ms,
    probeMs: last.ms,
    fdsOpen: fds,
    ...(redisPort ? { redisConnections: { before: redisBefore, open: redisOpen } } : {}),
    completed,
    windowUs: { fromUs, toUs },
    ...(failed ? { error: failed } : {}),
  };
}

function openOne(
  target: StreamsCell['target'],
  base: string,
  agent: Agent,
  onOpen: () => void,
  onFail: (err: string) => void,
): OpenStream {
  const u = new URL(base);
  const body =
    target !== 'floor'
      ? JSON.stringify({ query: 'Tell me a long story.', response_mode: 'streaming', user: 'bench-streams', conversation_id: randomUUID() })
      : JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Tell me a long story.' }], stream: true });
  const path = target !== 'floor' ? '/converse' : '/v1/chat/completions';
  let settled = false;
  const settle = (err?: string) => {
    if (settled) return;
    settled = true;
    if (err) onFail(err);
    else onOpen();
  };
  const req = request({
    host: u.hostname,
    port: u.port,
    path,
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer sk-bench' },
  });
  const s: OpenStream = { req, opened: false, ended: false };
  req.on('response', (res) => {
    s.res = res;
    if (res.statusCode !== 200) {
      settle(`HTTP ${res.statusCode}`);
      res.resume();
      return;
    }
    // Only look for the first line (NDJSON) or event (SSE); afterwards bytes are just drained.
    res.on('data', (chunk: Buffer) => {
      if (!s.opened && chunk.includes(10)) {
        s.opened = true;
        settle();
      }
    });
    res.on('end', () => {
      s.ended = true;
      settle('ended before its first event');
    });
    res.on('error', () => {
      s.ended = true;
    });
  });
  req.on('error', (err) => {
    s.ended = true;
    settle(err.message);
  });
  req.end(body);
  return s;
}
