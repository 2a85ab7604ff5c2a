/**
 * Lean mock upstreams for benchmarks, in their own process: an OpenAI-compatible server
 * (POST /v1/chat/completions, streaming SSE and `stream: false` JSON; GET /v1/models) and a
 * Dify-compatible one (POST /v1/chat-messages, streaming SSE and blocking JSON; GET /v1/parameters)
 * on one node:http port. Nothing is recorded per request: frames are built once per
 * configuration, and only streams that are open right now are tracked (for /_release).
 *
 * Control (bench only): POST /_control {chunks, delayMs, hold, maxHoldMs} replaces the
 * configuration; POST /_release ends every held stream properly; GET /_stats.
 *
 * Modes: `hold: false` sends `chunks` deltas `delayMs` apart (0: as fast as the socket takes
 * them, respecting backpressure) and ends. `hold: true` sends one delta at once, then one
 * every `delayMs` per stream, each on its own phase (one shared timer checks them, so 10,000
 * streams do not get their chunks in one burst), until /_release or `maxHoldMs`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveChild } from './serve-child.ts';

interface MockConfig {
  chunks: number;
  delayMs: number;
  hold: boolean;
  maxHoldMs: number;
  /** Text of each delta. */
  text: string;
}

let config: MockConfig = { chunks: 8, delayMs: 0, hold: false, maxHoldMs: 120_000, text: 'tok ' };

const CREATED = 1_700_000_000;
const MODEL = 'bench-model';

interface Frames {
  openaiHead: string;
  openaiDelta: string;
  openaiTail: string;
  openaiJson: string;
  difyDelta: string;
  difyTail: string;
  difyJson: string;
}

function buildFrames(c: MockConfig): Frames {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: MODEL };
  const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const usage = { prompt_tokens: 9, completion_tokens: c.chunks, total_tokens: 9 + c.chunks };
  const dify = { task_id: 'task-bench', id: 'msg-bench', message_id: 'msg-bench', conversation_id: 'conv-bench', created_at: CREATED };
  return {
    openaiHead: sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    openaiDelta: sse({ ...base, choices: [{ index: 0, delta: { content: c.text }, finish_reason: null }] }),
    openaiTail:
      sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
      sse({ ...base, choices: [], usage }) +
      'data: [DONE]\n\n',
    openaiJson: JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: CREATED,
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: c.text.repeat(c.chunks) }, finish_reason: 'stop' }],
      usage,
    }),
    difyDelta: sse({ event: 'message', ...dify, answer: c.text }),
    difyTail: sse({ event: 'message_end', ...dify, metadata: { usage, retriever_resources: [] } }),
    difyJson: JSON.stringify({
      event: 'message',
      ...dify,
      mode: 'chat',
      answer: c.text.repeat(c.chunks),
      metadata: { usage, retriever_resources: [] },
    }),
  };
}

let frames = buildFrames(config);

/** Streams in hold mode, fed by one shared timer. */
interface Held {
  res: ServerResponse;
  delta: string;
  tail: string;
  until: number;
  /** When this stream's next delta is due. */
  next: number;
}
const held = new Set<Held>();
let ticker: NodeJS.Timeout | undefined;
let openStreams = 0;
/** TCP connections accepted so far (keep-alive reuse shows as few connections for many requests). */
let connections = 0;
let requests = 0;

function endHeld(h: Held): void {
  held.delete(h);
  if (!h.res.destroyed) h.res.end(h.tail);
}

function tick(): void {
  const now = Date.now();
  for (const h of held) {
    if (h.res.destroyed) held.delete(h);
    else if (now >= h.until) endHeld(h);
    else if (now >= h.next) {
      h.next += config.delayMs;
      h.res.write(h.delta);
    }
  }
  if (held.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' } as const;

async function stream(res: ServerResponse, head: string, delta: string, tail: string): Promise<void> {
  const c = config;
  openStreams += 1;
  res.on('close', () => {
    openStreams -= 1;
  });
  res.writeHead(200, SSE_HEADERS);
  if (c.hold) {
    res.write(head + delta);
    const now = Date.now();
    held.add({ res, delta, tail, until: now + c.maxHoldMs, next: now + c.delayMs });
    ticker ??= setInterval(tick, Math.max(1, Math.min(50, c.delayMs)));
    return;
  }
  if (head) res.write(head);
  for (let i = 0; i < c.chunks; i++) {
    if (res.destroyed) return;
    if (c.delayMs > 0) {
      if (i > 0) await sleep(c.delayMs);
      res.write(delta);
    } else if (!res.write(delta)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  if (!res.destroyed) res.end(tail);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer).toString() : Buffer.concat(parts).toString()));
    req.on('error', reject);
  });
}

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  requests += 1;
  const path = (req.url ?? '/').split('?', 1)[0];
  const body = req.method === 'POST' ? await readBody(req) : '';
  if (req.method === 'POST' && path === '/v1/chat/completions') {
    if (parse(body).stream === true) return stream(res, frames.openaiHead, frames.openaiDelta, frames.openaiTail);
    return json(res, 200, frames.openaiJson);
  }
  if (req.method === 'POST' && path === '/v1/chat-messages') {
    if (parse(body).response_mode === 'blocking') return json(res, 200, frames.difyJson);
    return stream(res, '', frames.difyDelta, frames.difyTail);
  }
  if (req.method === 'GET' && path === '/v1/models') {
    return json(res, 200, JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: CREATED, owned_by: 'bench' }] }));
  }
  if (req.method === 'GET' && path === '/v1/parameters') {
    return json(res, 200, JSON.stringify({ opening_statement: '', suggested_questions: [], user_input_form: [], file_upload: {} }));
  }
  if (req.method === 'POST' && path === '/_control') {
    const next = parse(body);
    config = {
      chunks: typeof next.chunks === 'number' ? next.chunks : 8,
      delayMs: typeof next.delayMs === 'number' ? next.delayMs : 0,
      hold: next.hold === true,
      maxHoldMs: typeof next.maxHoldMs === 'number' ? next.maxHoldMs : 120_000,
      text: typeof next.text === 'string' ? next.text : 'tok ',
    };
    frames = buildFrames(config);
    return json(res, 200, JSON.stringify(config));
  }
  if (req.method === 'POST' && path === '/_release') {
    const n = held.size;
    for (const h of [...held]) endHeld(h);
    return json(res, 200, JSON.stringify({ released: n }));
  }
  if (req.method === 'GET' && path === '/_stats') {
    return json(res, 200, JSON.stringify({ open: openStreams, held: held.size, connections, requests, rss: process.memoryUsage.rss() }));
  }
  return json(res, 404, JSON.stringify({ error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => res.destroy());
});
server.on('connection', () => {
  connections += 1;
});
serveChild(server);
