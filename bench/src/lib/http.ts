/**
 * The measuring client: raw node:http with keep-alive agents, the same for every target so the
 * client's own cost cancels out of the overheads. Times are performance.now() milliseconds.
 */
import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { assertLoopback } from './procs.ts';

export interface Req {
  method: 'GET' | 'POST';
  /** Absolute URL on 127.0.0.1. */
  url: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
}

export function keepAliveAgent(maxSockets = 1): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

function send(agent: Agent, req: Req, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void): void {
  const u = new URL(req.url);
  assertLoopback(req.url);
  const headers: OutgoingHttpHeaders = { ...req.headers };
  if (req.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = Buffer.byteLength(req.body);
  }
  const r = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: req.method, headers, agent }, onResponse);
  r.on('error', onError);
  r.end(req.body);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

/** A whole response; rejects on a non-2xx status. */
export function fetchText(agent: Agent, req: Req): Promise<{ status: number; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    send(
      agent,
      req,
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const body = Buffer.concat(parts).toString();
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new HttpError(status, body));
          else resolve({ status, body, ms });
        });
        res.on('error', reject);
      },
      reject,
    );
  });
}

export type StreamKind = 'sse' | 'ndjson';

/** Decides whether one event (an SSE `data:` payload or an NDJSON line) carries answer text. */
export type IsAnswer = (payload: string) => boolean;

export interface StreamTiming {
  /** From sending the request to the first event that carries answer text. */
  first: number;
  /** From sending the request to the end of the response. */
  total: number;
  /** Events that carried answer text. */
  answers: number;
  body?: string;
}

/**
 * Streams a response, timing the first answer-carrying event and the end. `t0` lets a caller
 * include earlier steps (tRPC's chat.send before chat.events). `countAll` checks every event
 * (else only until the first answer is found). `stopWhen` ends early (the socket is destroyed).
 */
export function timeStream(
  agent: Agent,
  req: Req,
  kind: StreamKind,
  isAnswer: IsAnswer,
  opts: { t0?: number; countAll?: boolean; keepBody?: boolean; stopWhen?: (payload: string) => boolean } = {},
): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const t0 = opts.t0 ?? performance.now();
    let first = Number.NaN;
    let answers = 0;
    let buf = '';
    let body = '';
    let finished = false;
    send(
      agent,
      req,
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => reject(new HttpError(status, Buffer.concat(parts).toString())));
          return;
        }
        res.setEncoding('utf8');
        const sep = kind === 'sse' ? '\n\n' : '\n';
        const finish = () => {
          if (finished) return;
          finished = true;
          resolve({ first, total: performance.now() - t0, answers, ...(opts.keepBody ? { body } : {}) });
        };
        res.on('data', (chunk: string) => {
          if (finished) return;
          if (opts.keepBody) body += chunk;
          if (!opts.countAll && !opts.stopWhen && answers > 0) return;
          buf += chunk;
          let at: number;
          while ((at = buf.indexOf(sep)) >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + sep.length);
            const payload = kind === 'sse' ? sseData(block) : block;
            if (payload === undefined || payload === '') continue;
            if (isAnswer(payload)) {
              if (answers === 0) first = performance.now() - t0;
              answers += 1;
            }
            if (opts.stopWhen?.(payload)) {
              finish();
              res.destroy();
              return;
            }
          }
        });
        res.on('end', finish);
        res.on('error', (err) => (finished ? undefined : reject(err)));
      },
      reject,
    );
  });
}

/** The data of one SSE event block (its `data:` lines joined). */
export function sseData(block: string): string | undefined {
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('data:')) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : `${data}\n${v}`;
    }
  }
  return data;
}

const parse = (s: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** OpenAI chat.completion.chunk with non-empty delta.content. */
export const openaiAnswer: IsAnswer = (p) => {
  if (p === '[DONE]') return false;
  const choice = (parse(p)?.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0];
  return !!choice?.delta?.content;
};

/** Dify / Colloquy event with `event: "message"` (NDJSON lines, tRPC SSE data). */
export const messageEvent: IsAnswer = (p) => parse(p)?.event === 'message';

export const isMessageEnd = (p: string): boolean => parse(p)?.event === 'message_end';

/** Fast counters for throughput runs: no JSON parsing. */
export const openaiAnswerFast: IsAnswer = (p) => p.includes('"content":"') && !p.includes('"content":""');
export const messageEventFast: IsAnswer = (p) => p.startsWith('{"event":"message"') || p.includes('"event":"message",');
