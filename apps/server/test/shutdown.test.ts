import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, type IncomingHttpHeaders } from 'node:http';
import { makeServerDirs, startServerProcess, waitFor } from '@colloquy/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { Json } from './support/http-helpers.ts';
import { createTestClient } from './support/trpc-client.ts';

/**
 * A GET on a connection of its own. A draining server closes idle keep-alive connections, and
 * fetch's pool could send the next request down one just as it closes (a test failing by chance).
 */
function getOnItsOwnConnection(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const dirs = makeServerDirs('colloquy-shutdown-');
afterAll(() => dirs.remove());

/** Reads NDJSON events from a streaming /converse answer until `stop` says so or it ends. */
async function readEvents(res: Response, onEvent: (e: Json, all: Json[]) => void): Promise<Json[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Json[] = [];
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }) as const);
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const e = JSON.parse(buffered.slice(0, nl)) as Json;
      buffered = buffered.slice(nl + 1);
      events.push(e);
      onEvent(e, events);
    }
  }
  return events;
}

describe('SIGTERM during a stream', () => {
  it('stops the turn after SHUTDOWN_GRACE_MS, stores its partial text as stopped, ends the stream and exits 0', async () => {
    writeFileSync(
      join(dirs.inbox, 'manual.md'),
      Array.from({ length: 12 }, (_, i) => `Step ${i + 1}: grease the hinge of door ${i + 1} before the winter inspection.`).join('\n\n'),
    );
    const env = {
      DATA_DIR: dirs.dataDir,
      UPLOAD_ROOTS: dirs.inbox,
      LOCAL_AGENT_DELTA_DELAY_MS: '100',
      SHUTDOWN_GRACE_MS: '300',
    };
    const first = await startServerProcess(env);
    const up = await fetch(`${first.url}/upload_files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_paths: ['manual.md'] }),
    });
    expect(up.status).toBe(200);

    const res = await fetch(`${first.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'grease hinge door winter inspection', files: ['manual.md'], response_mode: 'streaming', user: 'sig' }),
    });
    expect(res.status).toBe(200);

    let signalledAt = 0;
    const events = await readEvents(res, (e, all) => {
      // A few deltas in (the answer is far from done), ask the process to stop.
      if (!signalledAt && e.event === 'message' && all.filter((x) => x.event === 'message').length === 3) {
        signalledAt = Date.now();
        first.child.kill('SIGTERM');
      }
    });
    const code = await first.exited;
    const exitMs = Date.now() - signalledAt;
    console.info(`SIGTERM → exit ${code} in ${exitMs} ms (grace 300 ms)`);
    expect(signalledAt).toBeGreaterThan(0);
    expect(code).toBe(0);

    // The stream was ended properly: its last event says the answer was stopped.
    const end = events.at(-1);
    expect(end?.event).toBe('message_end');
    expect(end?.status).toBe('stopped');
    const partial = events
      .filter((e) => e.event === 'message')
      .map((e) => e.answer as string)
      .join('');
    expect(partial.length).toBeGreaterThan(0);
    // The process logged its shutdown as JSON lines.
    expect(first.output()).toMatch(/"msg":"SIGTERM: shutting down"/);
    expect(first.output()).toMatch(/"msg":"shut down"/);

    // After a restart on the same data the message is `stopped` with that text, not interrupted.
    const second = await startServerProcess(env);
    try {
      const client = createTestClient(second.url);
      const conversationId = end!.conversation_id as string;
      const messages = await client.messages.list.query({ conversationId, user: 'sig' });
      const assistant = messages.items.find((m) => m.id === end!.message_id);
      expect(assistant?.status).toBe('stopped');
      expect(assistant?.content).toBe(partial);
      expect(assistant!.content.length).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('while draining after SIGTERM (issue 11)', () => {
  it('keeps answering: /readyz 503 "draining", /healthz 200, new API requests 503; then exits 0', async () => {
    const drainDirs = makeServerDirs('colloquy-drain-');
    try {
      writeFileSync(
        join(drainDirs.inbox, 'log.md'),
        Array.from({ length: 30 }, (_, i) => `Entry ${i + 1}: the lighthouse lamp was trimmed and the fuel logged at dusk.`).join('\n\n'),
      );
      const server = await startServerProcess({
        DATA_DIR: drainDirs.dataDir,
        UPLOAD_ROOTS: drainDirs.inbox,
        LOCAL_AGENT_DELTA_DELAY_MS: '100',
        SHUTDOWN_GRACE_MS: '4000',
      });
      const up = await fetch(`${server.url}/upload_files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file_paths: ['log.md'] }),
      });
      expect(up.status).toBe(200);
      // A long answer keeps the process draining for the whole grace time.
      const streaming = await fetch(`${server.url}/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'lighthouse lamp trimmed fuel logged dusk', files: ['log.md'], response_mode: 'streaming', user: 'keeper' }),
      });
      expect(streaming.status).toBe(200);
      const events = readEvents(streaming, () => undefined);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

      server.child.kill('SIGTERM');
      // Draining begins at once: wait until it shows, then look at every kind of request.
      const ready = await waitFor(async () => {
        const r = await getOnItsOwnConnection(`${server.url}/readyz`);
        return r.status === 503 && r;
      });
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'draining' });
      expect((await getOnItsOwnConnection(`${server.url}/healthz`)).status).toBe(200);
      const refused = await getOnItsOwnConnection(`${server.url}/get_conversation_list`);
      expect(refused.status).toBe(503);
      expect(refused.headers.connection).toBe('close');
      expect(JSON.parse(refused.body)).toEqual({ message: '服务正在关闭', error: 'the server is shutting down; retry shortly' });
      expect(server.child.exitCode).toBeNull();

      expect(await server.exited).toBe(0);
      expect((await events).at(-1)).toMatchObject({ event: 'message_end' });
    } finally {
      drainDirs.remove();
    }
  }, 60_000);
});

