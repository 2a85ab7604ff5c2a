/**
 * Scenario 1: one request at a time. Blocking total, and streaming first-event and total,
 * direct to the mock, through the floor, through Colloquy (REST /converse blocking and NDJSON,
 * tRPC chat.converse and chat.send + chat.events over SSE) and through the peer.
 * Runs are interleaved (run 1 of every row, then run 2, …) so drifting machine load hits every
 * row alike.
 */
import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import {
  fetchText,
  isMessageEnd,
  keepAliveAgent,
  messageEvent,
  openaiAnswer,
  timeStream,
  type Req,
} from '../lib/http.ts';
import { cpuMs, type Child } from '../lib/procs.ts';
import { summarize, summarizeRuns, type RunsSummary, type Summary } from '../lib/stats.ts';
import { peerHeaders, PEER_NAME, type Colloquy, type Mock } from '../lib/targets.ts';

export interface LatencyRow {
  id: string;
  label: string;
  /** Which direct row this row's overhead is taken against. */
  baseline: 'direct-blocking' | 'direct-stream' | 'dify-direct-blocking' | 'dify-direct-stream';
  /** The floor row of the same mode (for the ratio). */
  floor?: string;
  streaming: boolean;
  total?: RunsSummary;
  first?: RunsSummary;
  /** CPU time (user + system) the process behind this path used per request, ms (/proc/<pid>/stat). */
  cpuPerRequest?: number;
  /** Which process that is. */
  cpuOf?: string;
  note?: string;
  error?: string;
}

export interface LatencyResult {
  rows: LatencyRow[];
  runs: number;
  perRun: number;
  warmup: number;
  chunks: number;
}

interface Timing {
  total: number;
  first?: number;
}

interface Case {
  row: LatencyRow;
  once: () => Promise<Timing>;
  /** The process doing this path's work (the mock for direct paths). */
  pid: number;
  /** Fewer requests per run (slow rows); default the scenario's count. */
  perRun?: number;
}

const QUERY = 'What is the refund policy for digital goods?';

const openaiBody = (stream: boolean) =>
  JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: QUERY }], stream });

export async function runLatency(opts: {
  mock: Mock;
  floor: Child;
  colloquy: Colloquy;
  peer?: Child;
  peerError?: string;
  runs: number;
  perRun: number;
  warmup: number;
  log: (s: string) => void;
}): Promise<LatencyResult> {
  const { mock, floor, colloquy, peer } = opts;
  const chunks = 8;
  await mock.configure({ chunks, delayMs: 0 });
  const user = 'bench-latency';
  const cases: Case[] = [];
  const add = (row: Omit<LatencyRow, 'total' | 'first'>, once: (agent: Agent) => Promise<Timing>, perRun?: number) => {
    const agent = keepAliveAgent(1);
    const proc = row.id.startsWith('floor')
      ? { pid: floor.pid, name: 'floor' }
      : row.id.startsWith('peer')
        ? { pid: peer?.pid ?? -1, name: 'peer' }
        : row.id.includes('direct')
          ? { pid: mock.pid, name: 'mock' }
          : { pid: colloquy.pid, name: 'Colloquy' };
    cases.push({ row: { ...row, cpuOf: proc.name }, pid: proc.pid, once: () => once(agent), ...(perRun ? { perRun } : {}) });
  };
  const blocking = (req: () => Req) => async (agent: Agent) => ({ total: (await fetchText(agent, req())).ms });
  const streamed =
    (req: () => Req, kind: 'sse' | 'ndjson', isAnswer: (p: string) => boolean) =>
    async (agent: Agent): Promise<Timing> => {
      const t = await timeStream(agent, req(), kind, isAnswer);
      if (!(t.first >= 0)) throw new Error(`no answer event from ${req().url}`);
      return { total: t.total, first: t.first };
    };
  const openaiReq = (base: string, stream: boolean, headers: Record<string, string> = {}) => (): Req => ({
    method: 'POST',
    url: `${base}/v1/chat/completions`,
    headers: { authorization: 'Bearer sk-bench', ...headers },
    body: openaiBody(stream),
  });
  const difyReq = (blockingMode: boolean) => (): Req => ({
    method: 'POST',
    url: `${mock.url}/v1/chat-messages`,
    headers: { authorization: 'Bearer app-bench' },
    body: JSON.stringify({ inputs: {}, query: QUERY, response_mode: blockingMode ? 'blocking' : 'streaming', conversation_id: '', user, files: [] }),
  });
  const converseReq = (mode: 'blocking' | 'streaming', agentId?: string) => (): Req => ({
    method: 'POST',
    url: `${colloquy.url}/converse`,
    body: JSON.stringify({
      query: QUERY,
      response_mode: mode,
      user,
      // A new conversation per request: every turn does the same work (no growing history).
      conversation_id: randomUUID(),
      ...(agentId ? { agent: agentId } : {}),
    }),
  });

  // Direct and floor.
  add({ id: 'direct-blocking', label: 'direct to mock, blocking (`stream:false`)', baseline: 'direct-blocking', streaming: false }, blocking(openaiReq(mock.url, false)));
  add({ id: 'direct-stream', label: 'direct to mock, streaming SSE', baseline: 'direct-stream', streaming: true }, streamed(openaiReq(mock.url, true), 'sse', openaiAnswer));
  add({ id: 'floor-blocking', label: 'floor (bare node:http proxy), blocking', baseline: 'direct-blocking', floor: 'floor-blocking', streaming: false }, blocking(openaiReq(floor.url, false)));
  add({ id: 'floor-stream', label: 'floor, streaming SSE', baseline: 'direct-stream', floor: 'floor-stream', streaming: true }, streamed(openaiReq(floor.url, true), 'sse', openaiAnswer));

  // Colloquy REST.
  add(
    { id: 'rest-blocking', label: 'Colloquy REST `/converse` blocking (turn stored)', baseline: 'direct-blocking', floor: 'floor-blocking', streaming: false },
    blocking(converseReq('blocking')),
  );
  add(
    { id: 'rest-stream', label: 'Colloquy REST `/converse` NDJSON streaming', baseline: 'direct-stream', floor: 'floor-stream', streaming: true },
    streamed(converseReq('streaming'), 'ndjson', messageEvent),
  );

  // Colloquy tRPC, on the wire (same raw client as every other row).
  add(
    { id: 'trpc-converse', label: 'Colloquy tRPC `chat.converse` mutation', baseline: 'direct-blocking', floor: 'floor-blocking', streaming: false },
    blocking(() => ({
      method: 'POST',
      url: `${colloquy.url}/trpc/chat.converse`,
      body: JSON.stringify({ query: QUERY, user, conversationId: randomUUID() }),
    })),
  );
  add(
    { id: 'trpc-stream', label: 'Colloquy tRPC `chat.send` + `chat.events` (SSE)', baseline: 'direct-stream', floor: 'floor-stream', streaming: true },
    async (agent) => {
      const t0 = performance.now();
      const sent = await fetchText(agent, {
        method: 'POST',
        url: `${colloquy.url}/trpc/chat.send`,
        body: JSON.stringify({ query: QUERY, user, conversationId: randomUUID() }),
      });
      const messageId = (JSON.parse(sent.body) as { result: { data: { messageId: string } } }).result.data.messageId;
      const input = encodeURIComponent(JSON.stringify({ messageId, user }));
      const t = await timeStream(
        agent,
        { method: 'GET', url: `${colloquy.url}/trpc/chat.events?input=${input}`, headers: { accept: 'text/event-stream' } },
        'sse',
        messageEvent,
        { t0 },
      );
      return { total: t.total, first: t.first };
    },
  );

  // Colloquy through the typed SDK (undici fetch + eventsource on the client: client cost included).
  // The SDK is imported from its build (packages/sdk/dist); without one these rows say so.
  let sdkError: string | undefined;
  const sdkModule = await import('@colloquy/sdk').catch((err: unknown) => {
    sdkError = `@colloquy/sdk could not be loaded (run \`pnpm build\` first): ${err instanceof Error ? err.message : String(err)}`;
    return undefined;
  });
  const sdk = sdkModule?.createClient({ baseUrl: colloquy.url, user, maxRetries: 0 });
  const needSdk = () => {
    if (!sdk) throw new Error(sdkError);
    return sdk;
  };
  cases.push({
    row: {
      id: 'sdk-converse',
      label: 'Colloquy via `@colloquy/sdk` `converse()` (SDK client cost included)',
      baseline: 'direct-blocking',
      floor: 'floor-blocking',
      streaming: false,
      cpuOf: 'Colloquy',
    },
    pid: colloquy.pid,
    once: async () => {
      const t0 = performance.now();
      await needSdk().converse({ query: QUERY, conversationId: randomUUID() });
      return { total: performance.now() - t0 };
    },
  });
  cases.push({
    row: {
      id: 'sdk-stream',
      label: 'Colloquy via `@colloquy/sdk` `stream()` (SDK client cost included)',
      baseline: 'direct-stream',
      floor: 'floor-stream',
      streaming: true,
      cpuOf: 'Colloquy',
    },
    pid: colloquy.pid,
    once: async () => {
      const t0 = performance.now();
      let first: number | undefined;
      for await (const ev of needSdk().stream({ query: QUERY, conversationId: randomUUID() })) {
        if (ev.event === 'message' && first === undefined) first = performance.now() - t0;
      }
      return { total: performance.now() - t0, ...(first !== undefined ? { first } : {}) };
    },
  });

  // Dify protocol: direct, and Colloquy's `dify` agent.
  add({ id: 'dify-direct-blocking', label: 'direct to Dify mock, blocking', baseline: 'dify-direct-blocking', streaming: false }, blocking(difyReq(true)));
  add({ id: 'dify-direct-stream', label: 'direct to Dify mock, streaming SSE', baseline: 'dify-direct-stream', streaming: true }, streamed(difyReq(false), 'sse', messageEvent));
  add(
    { id: 'rest-dify-blocking', label: 'Colloquy REST `/converse` blocking, `dify` agent', baseline: 'dify-direct-blocking', streaming: false },
    blocking(converseReq('blocking', 'dify')),
  );
  add(
    { id: 'rest-dify-stream', label: 'Colloquy REST `/converse` NDJSON, `dify` agent', baseline: 'dify-direct-stream', streaming: true },
    streamed(converseReq('streaming', 'dify'), 'ndjson', messageEvent),
  );

  // The peer.
  const peerRows: Array<Omit<LatencyRow, 'total' | 'first'>> = [
    { id: 'peer-blocking', label: `peer: ${PEER_NAME}, blocking`, baseline: 'direct-blocking', floor: 'floor-blocking', streaming: false },
    {
      id: 'peer-stream',
      label: `peer: ${PEER_NAME}, streaming SSE`,
      baseline: 'direct-stream',
      floor: 'floor-stream',
      streaming: true,
      note: 'Portkey sleeps 25 ms before relaying the first chunk of every stream (its stream handler), so its first-event figures include that delay',
    },
  ];
  if (peer) {
    const h = peerHeaders(mock.url);
    add(peerRows[0]!, blocking(openaiReq(peer.url, false, h)));
    // 25 ms built-in delay per stream: fewer requests keep the run short.
    add(peerRows[1]!, streamed(openaiReq(peer.url, true, h), 'sse', openaiAnswer), Math.min(opts.perRun, 200));
  }

  // Sanity: a Colloquy stream really ends with message_end.
  {
    const t = await timeStream(keepAliveAgent(1), converseReq('streaming')(), 'ndjson', isMessageEnd);
    if (t.answers !== 1) throw new Error('REST stream did not end with message_end');
  }

  // Warm-up: JIT, connection pools, SQLite page cache.
  for (const c of cases) {
    const n = Math.min(opts.warmup, c.perRun ?? opts.warmup);
    for (let i = 0; i < n; i++) {
      try {
        await c.once();
      } catch (err) {
        c.row.error = err instanceof Error ? err.message : String(err);
        break;
      }
    }
  }

  const totals = new Map<string, Summary[]>();
  const firsts = new Map<string, Summary[]>();
  const cpu = new Map<string, { ms: number; n: number }>();
  for (let run = 0; run < opts.runs; run++) {
    for (const c of cases) {
      if (c.row.error) continue;
      const n = c.perRun ?? opts.perRun;
      const t: number[] = [];
      const f: number[] = [];
      const cpu0 = cpuMs(c.pid);
      try {
        for (let i = 0; i < n; i++) {
          const r = await c.once();
          t.push(r.total);
          if (r.first !== undefined) f.push(r.first);
        }
      } catch (err) {
        c.row.error = err instanceof Error ? err.message : String(err);
        continue;
      }
      const used = cpu.get(c.row.id) ?? { ms: 0, n: 0 };
      used.ms += cpuMs(c.pid) - cpu0;
      used.n += n;
      cpu.set(c.row.id, used);
      (totals.get(c.row.id) ?? totals.set(c.row.id, []).get(c.row.id)!).push(summarize(t));
      if (f.length > 0) (firsts.get(c.row.id) ?? firsts.set(c.row.id, []).get(c.row.id)!).push(summarize(f));
    }
    opts.log(`  scenario 1: run ${run + 1}/${opts.runs} done`);
  }
  for (const c of cases) {
    const t = totals.get(c.row.id);
    const f = firsts.get(c.row.id);
    if (t) c.row.total = summarizeRuns(t);
    if (f) c.row.first = summarizeRuns(f);
    const used = cpu.get(c.row.id);
    if (used && used.n > 0) c.row.cpuPerRequest = used.ms / used.n;
  }
  const rows = cases.map((c) => c.row);
  if (!peer) {
    for (const r of peerRows) rows.push({ ...r, error: opts.peerError ?? 'peer not started' });
  }
  return { rows, runs: opts.runs, perRun: opts.perRun, warmup: opts.warmup, chunks };
}
