import type { StreamEvent } from '@colloquy/api';
import { createTestClient } from './trpc-client.ts';

/** An NDJSON answer read event by event. */
export interface LiveNdjson {
  events: StreamEvent[];
  /** Resolves once at least `n` events have arrived (or the stream ended). */
  atLeast(n: number, timeoutMs?: number): Promise<StreamEvent[]>;
  /** Resolves when the stream has ended. */
  ended: Promise<StreamEvent[]>;
  /** Cuts the connection (as a client that drops would). */
  cut(): Promise<void>;
}

export async function openNdjson(url: string, body: object, headers: Record<string, string> = {}): Promise<LiveNdjson> {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line) as StreamEvent);
        }
        for (const w of [...waiters]) w();
      }
    } catch {
      // cut
    }
    for (const w of [...waiters]) w();
    return events;
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    events,
    ended,
    async atLeast(n, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (events.length < n && !done) {
        if (Date.now() > until) throw new Error(`only ${events.length} of ${n} events in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const w = () => {
            waiters.delete(w);
            resolve();
          };
          waiters.add(w);
          setTimeout(w, 200);
        });
      }
      return events;
    },
    async cut() {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      await ended;
    },
  };
}

/** Every event of a message after `lastEventId`, over tRPC SSE, until `message_end`. */
export function reattach(
  baseUrl: string,
  headers: Record<string, string>,
  messageId: string,
  lastEventId: string | undefined,
  timeoutMs = 30_000,
): Promise<StreamEvent[]> {
  const client = createTestClient(baseUrl, headers);
  return new Promise((resolve, reject) => {
    const seen: StreamEvent[] = [];
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`re-attach did not end in ${timeoutMs} ms (${seen.length} events)`));
    }, timeoutMs);
    const sub = client.chat.events.subscribe(
      { messageId, lastEventId: lastEventId ?? null },
      {
        onData: (t) => {
          seen.push(t.data);
          if (t.data.event === 'message_end') {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError: (err) => {
          clearTimeout(timer);
          sub.unsubscribe();
          reject(err);
        },
      },
    );
  });
}

/** Ids 1..n exactly once, in order. */
export const ids = (events: StreamEvent[]) => events.map((e) => Number(e.id));
export const textOf = (events: StreamEvent[]) => events.map((e) => (e.event === 'message' ? e.answer : '')).join('');
