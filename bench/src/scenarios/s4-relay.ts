/**
 * Scenario 4: relay throughput. The mock emits many small chunks with no delay (as fast as the
 * socket takes them); one and a few long streams go through each path at once, and the client
 * counts answer events. Events per second = answer events received / wall time.
 */
import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import { fetchText, keepAliveAgent, messageEventFast, openaiAnswerFast, timeStream, type IsAnswer, type Req } from '../lib/http.ts';
import type { Child } from '../lib/procs.ts';
import { median } from '../lib/stats.ts';
import type { Colloquy, Mock } from '../lib/targets.ts';

export interface RelayCell {
  target: string;
  label: string;
  streams: number;
  eventsPerSec: number;
  /** Answer events received in the median run, against what the mock sent. */
  received: number;
  expected: number;
  runs: number;
  error?: string;
}

export interface RelayResult {
  cells: RelayCell[];
  chunksPerStream: number;
  concurrency: number[];
  runs: number;
}

interface Path {
  id: string;
  label: string;
  kind: 'sse' | 'ndjson';
  isAnswer: IsAnswer;
  run: (agent: Agent) => Promise<number>;
}

export async function runRelay(opts: {
  mock: Mock;
  floor: Child;
  colloquy: Colloquy;
  chunks: number;
  concurrency: number[];
  runs: number;
  log: (s: string) => void;
}): Promise<RelayResult> {
  const { mock, floor, colloquy } = opts;
  const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Stream a lot.' }], stream: true });
  const sse = (base: string) => async (agent: Agent) =>
    (await timeStream(agent, { method: 'POST', url: `${base}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench' }, body }, 'sse', openaiAnswerFast, { countAll: true })).answers;
  const converse = (): Req => ({
    method: 'POST',
    url: `${colloquy.url}/converse`,
    body: JSON.stringify({ query: 'Stream a lot.', response_mode: 'streaming', user: 'bench-relay', conversation_id: randomUUID() }),
  });
  const paths: Path[] = [
    { id: 'direct', label: 'direct to mock (SSE)', kind: 'sse', isAnswer: openaiAnswerFast, run: sse(mock.url) },
    { id: 'floor', label: 'floor (bare node:http proxy, SSE)', kind: 'sse', isAnswer: openaiAnswerFast, run: sse(floor.url) },
    {
      id: 'colloquy-rest',
      label: 'Colloquy REST `/converse` NDJSON',
      kind: 'ndjson',
      isAnswer: messageEventFast,
      run: async (agent) => (await timeStream(agent, converse(), 'ndjson', messageEventFast, { countAll: true })).answers,
    },
    {
      id: 'colloquy-trpc',
      label: 'Colloquy tRPC `chat.send` + `chat.events` SSE',
      kind: 'sse',
      isAnswer: messageEventFast,
      run: async (agent) => {
        const sent = await fetchText(agent, {
          method: 'POST',
          url: `${colloquy.url}/trpc/chat.send`,
          body: JSON.stringify({ query: 'Stream a lot.', user: 'bench-relay', conversationId: randomUUID() }),
        });
        const messageId = (JSON.parse(sent.body) as { result: { data: { messageId: string } } }).result.data.messageId;
        const input = encodeURIComponent(JSON.stringify({ messageId, user: 'bench-relay' }));
        return (
          await timeStream(
            agent,
            { method: 'GET', url: `${colloquy.url}/trpc/chat.events?input=${input}`, headers: { accept: 'text/event-stream' } },
            'sse',
            messageEventFast,
            { countAll: true },
          )
        ).answers;
      },
    },
  ];
  // The SDK's stream() (its EventSource and parsing in this process included), from its build.
  const sdkModule = await import('@colloquy/sdk').catch(() => undefined);
  if (sdkModule) {
    const sdk = sdkModule.createClient({ baseUrl: colloquy.url, user: 'bench-relay', maxRetries: 0 });
    paths.push({
      id: 'colloquy-sdk',
      label: 'Colloquy via `@colloquy/sdk` `stream()` (SDK client cost included)',
      kind: 'sse',
      isAnswer: messageEventFast,
      run: async () => {
        let n = 0;
        for await (const ev of sdk.stream({ query: 'Stream a lot.', conversationId: randomUUID() }, { timeoutMs: 600_000 })) if (ev.event === 'message') n++;
        return n;
      },
    });
  }

  // Warm-up with short streams.
  await mock.configure({ chunks: 2000, delayMs: 0 });
  for (const p of paths) await p.run(keepAliveAgent(1)).catch(() => 0);
  await mock.configure({ chunks: opts.chunks, delayMs: 0 });

  const samples = new Map<string, Array<{ eps: number; received: number }>>();
  const errors = new Map<string, string>();
  for (let run = 0; run < opts.runs; run++) {
    for (const k of opts.concurrency) {
      for (const p of paths) {
        const key = `${p.id}@${k}`;
        if (errors.has(key)) continue;
        const agent = keepAliveAgent(k);
        const t0 = performance.now();
        try {
          const counts = await Promise.all(Array.from({ length: k }, () => p.run(agent)));
          const ms = performance.now() - t0;
          const received = counts.reduce((a, b) => a + b, 0);
          const list = samples.get(key) ?? [];
          list.push({ eps: received / (ms / 1000), received });
          samples.set(key, list);
          opts.log(`  scenario 4: run ${run + 1}, ${p.id} ×${k}: ${Math.round(received / (ms / 1000))} events/s (${received}/${opts.chunks * k})`);
        } catch (err) {
          errors.set(key, err instanceof Error ? err.message : String(err));
        } finally {
          agent.destroy();
        }
      }
    }
  }
  await mock.configure({ chunks: 8, delayMs: 0 });
  const cells: RelayCell[] = [];
  for (const k of opts.concurrency) {
    for (const p of paths) {
      const list = samples.get(`${p.id}@${k}`) ?? [];
      const error = errors.get(`${p.id}@${k}`);
      cells.push({
        target: p.id,
        label: p.label,
        streams: k,
        eventsPerSec: median(list.map((s) => s.eps)),
        received: median(list.map((s) => s.received)),
        expected: opts.chunks * k,
        runs: list.length,
        ...(error ? { error } : {}),
      });
    }
  }
  return { cells, chunksPerStream: opts.chunks, concurrency: opts.concurrency, runs: opts.runs };
}
