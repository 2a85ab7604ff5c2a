import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { sendJson } from './http-fake.ts';

/** How a fake upstream answers one streaming request. */
export interface StreamScript {
  /** Default 200. With `json`, the answer is that JSON body instead of a stream. */
  status?: number;
  json?: unknown;
  headers?: Record<string, string>;
  /** Raw text pieces written in order (see `sseData`); malformed lines are just strings here. */
  chunks?: string[];
  /** Wait before each chunk. */
  delayMs?: number;
  /** Wait before the first chunk only (after the headers). */
  firstChunkDelayMs?: number;
  /** `before-headers`: never answer. `after-chunks`: write the chunks, then keep silent and open. */
  stall?: 'before-headers' | 'after-chunks';
  /** Close the connection after the chunks instead of ending the response. */
  closeMidStream?: boolean;
}

/** One SSE event carrying a JSON payload: `data: {...}\n\n`. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export async function playScript(res: ServerResponse, script: StreamScript): Promise<void> {
  if (script.stall === 'before-headers') return;
  if (script.json !== undefined) {
    sendJson(res, script.status ?? 500, script.json);
    return;
  }
  res.writeHead(script.status ?? 200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    ...script.headers,
  });
  res.flushHeaders();
  const chunks = script.chunks ?? [];
  for (let i = 0; i < chunks.length; i++) {
    const wait = (i === 0 ? script.firstChunkDelayMs : undefined) ?? script.delayMs ?? 0;
    if (wait > 0) await delay(wait);
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(chunks[i], () => resolve()));
  }
  if (script.stall === 'after-chunks') return;
  if (script.closeMidStream) {
    // A FIN before the chunked body's last chunk: what the client sees when an upstream dies.
    res.socket?.end();
    return;
  }
  res.end();
}

/** The next script of a queue; the last one is reused. */
export function nextScript(queue: StreamScript[], fallback: StreamScript): StreamScript {
  return (queue.length > 1 ? queue.shift() : queue[0]) ?? fallback;
}
