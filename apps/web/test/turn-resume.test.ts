/**
 * The stream-resume part of the chat against a real server (local agent, slow deltas): a turn
 * followed until a "reload" (the page stops listening mid-answer), then resumed from what
 * sessionStorage kept, ends with the stored answer — every delta exactly once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ColloquyClient } from '@colloquy/sdk';
import { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingTurns, resumeTurn, startTurn, type LiveTurn } from '../src/chat/turn-resume.ts';

/** sessionStorage's interface over a Map (Node has no Web Storage). */
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem = (k: string) => this.items.get(k) ?? null;
  setItem = (k: string, v: string) => void this.items.set(k, v);
  removeItem = (k: string) => void this.items.delete(k);
}

const DOC = Array.from({ length: 8 }, (_, i) => `Paragraph ${i + 1}: the lighthouse keeper lights the lamp at dusk and logs passing ships number ${i + 1}.`).join('\n\n');

let dirs: TempServerDirs;
let server: ServerProcess;
let client: ColloquyClient;
let fileId: string;

beforeAll(async () => {
  dirs = makeServerDirs('colloquy-web-resume-');
  server = await startServerProcess({ DATA_DIR: dirs.dataDir, UPLOAD_ROOTS: dirs.inbox, LOCAL_AGENT_DELTA_DELAY_MS: '25', FLUSH_INTERVAL_MS: '100' });
  client = createClient({ baseUrl: server.url, user: 'resumer' });
  writeFileSync(join(dirs.inbox, 'lighthouse.md'), DOC);
  fileId = (await client.files.uploadPaths(['lighthouse.md']))[0]!.id;
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
  dirs?.remove();
});

describe('turn resume', () => {
  it('a turn interrupted by a reload resumes after its last saved event and completes exactly once', async () => {
    const storage = new MemoryStorage();
    const pending = new PendingTurns(storage);
    const conversationId = crypto.randomUUID();
    const seen: LiveTurn[] = [];
    const first = startTurn(client, { conversationId, query: 'When does the lighthouse keeper light the lamp?', files: [fileId] }, pending, (t) => seen.push(t));

    // Saved before the request went out.
    expect(pending.all()).toHaveLength(1);
    const messageId = pending.all()[0]!.messageId;
    // Let a few deltas arrive, then "reload": stop listening (the server goes on generating).
    while (!seen.some((t) => t.answer.length > 40)) await new Promise((r) => setTimeout(r, 10));
    first.stream.abort();
    const cut = await first.done;
    expect(cut.status).toBe('streaming');

    // The new page reads what the old one saved: the text up to its last event id.
    const reloaded = new PendingTurns(storage);
    const saved = reloaded.all();
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ messageId, conversationId, answer: cut.answer, lastEventId: cut.lastEventId });
    expect(Number(saved[0]!.lastEventId)).toBeGreaterThan(0);

    const updates: LiveTurn[] = [];
    const resumed = resumeTurn(client, saved[0]!, reloaded, (t) => updates.push(t));
    expect(updates[0]!.answer).toBe(cut.answer); // shown at once, before any new event
    const end = await resumed.done;

    const stored = (await client.messages.list(conversationId)).items.find((m) => m.id === messageId)!;
    expect(end.status).toBe('complete');
    expect(end.answer).toBe(stored.content);
    expect(end.answer.length).toBeGreaterThan(cut.answer.length);
    expect(end.answer.match(/lights the lamp at dusk/g)?.length).toBe(stored.content.match(/lights the lamp at dusk/g)?.length);
    expect(end.citations.map((c) => c.fileName)).toContain('lighthouse.md');
    expect(end.usage?.totalTokens).toBeGreaterThan(0);
    // Ended: nothing left to resume.
    expect(reloaded.all()).toEqual([]);
    expect(storage.items.size).toBe(0);
  });

  it('a stopped turn ends as stopped with its partial text, and is forgotten', async () => {
    const storage = new MemoryStorage();
    const pending = new PendingTurns(storage);
    const conversationId = crypto.randomUUID();
    let latest: LiveTurn | undefined;
    const turn = startTurn(client, { conversationId, query: 'lighthouse lamp dusk ships', files: [fileId] }, pending, (t) => (latest = t));
    while (!latest || latest.answer.length < 20) await new Promise((r) => setTimeout(r, 10));
    await turn.stream.stop();
    const end = await turn.done;
    expect(end.status).toBe('stopped');
    expect(end.answer.length).toBeGreaterThanOrEqual(20);
    const stored = (await client.messages.list(conversationId)).items.find((m) => m.id === end.messageId)!;
    expect(stored).toMatchObject({ status: 'stopped', content: end.answer });
    expect(pending.all()).toEqual([]);
  });

  it('a turn the server refuses ends as an error with its message, and is forgotten', async () => {
    const pending = new PendingTurns(new MemoryStorage());
    const end = await startTurn(client, { conversationId: crypto.randomUUID(), query: 'x', files: ['no-such-file.txt'] }, pending, () => undefined).done;
    expect(end.status).toBe('error');
    expect(end.error).toMatch(/no-such-file\.txt/);
    expect(pending.all()).toEqual([]);
  });
});
