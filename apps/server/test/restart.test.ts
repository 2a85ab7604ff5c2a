import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamEvent } from '@colloquy/api';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '@colloquy/testing';
import { createTestClient } from './support/trpc-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'colloquy-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a process that dies mid-stream', () => {
  it('leaves the message interrupted with its flushed text after restart', async () => {
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox, { recursive: true });
    writeFileSync(
      join(inbox, 'manual.md'),
      Array.from({ length: 10 }, (_, i) => `Step ${i + 1}: tighten the valve bolts of pump ${i + 1} before the pressure test.`).join('\n\n'),
    );
    const env = {
      DATA_DIR: join(dir, 'data'),
      UPLOAD_ROOTS: inbox,
      LOCAL_AGENT_DELTA_DELAY_MS: '60',
      FLUSH_INTERVAL_MS: '200',
    };

    const first = await startServerProcess(env);
    await fetch(`${first.url}/upload_files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_paths: ['manual.md'] }),
    });
    const res = await fetch(`${first.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'valve bolts pressure test pump', files: ['manual.md'], response_mode: 'streaming', user: 'u1' }),
    });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const received: StreamEvent[] = [];
    // Read until well past a flush interval, then kill the process without any shutdown.
    const startedAt = Date.now();
    while (Date.now() - startedAt < 1200) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        received.push(JSON.parse(buffered.slice(0, nl)) as StreamEvent);
        buffered = buffered.slice(nl + 1);
      }
    }
    first.child.kill('SIGKILL');
    await first.exited;
    await reader.cancel().catch(() => undefined);
    expect(received.length).toBeGreaterThan(5);
    expect(received.some((e) => e.event === 'message_end')).toBe(false);
    const messageId = received[0]!.message_id;
    const seenText = received.map((e) => (e.event === 'message' ? e.answer : '')).join('');

    const second = await startServerProcess(env);
    try {
      const client = createTestClient(second.url);
      const messages = await client.messages.list.query({ conversationId: received[0]!.conversation_id });
      const assistant = messages.items.find((m) => m.id === messageId);
      expect(assistant?.status).toBe('interrupted');
      // Flushed at least every 200 ms: most of what was streamed is kept, and nothing else.
      expect(assistant?.content.length).toBeGreaterThan(0);
      expect(seenText.startsWith(assistant!.content)).toBe(true);

      // Re-attaching after the restart yields the stored message as one final event.
      const events = await new Promise<StreamEvent[]>((resolve, reject) => {
        const seen: StreamEvent[] = [];
        const sub = client.chat.events.subscribe({ messageId, lastEventId: received.at(-1)!.id }, {
          onData: (t) => {
            seen.push(t.data);
            sub.unsubscribe();
            resolve(seen);
          },
          onError: reject,
        });
      });
      expect(events[0]).toMatchObject({ event: 'message_end', status: 'interrupted', answer: assistant!.content });
      expect(Number(events[0]!.id)).toBeGreaterThan(Number(received.at(-1)!.id));

      // The conversation goes on after the restart.
      const next = await client.chat.converse.mutate({ user: 'u1', query: 'pump valve', conversationId: received[0]!.conversation_id });
      expect(next.status).toBe('complete');
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
