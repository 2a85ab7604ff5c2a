/**
 * Group commit of the turn writes (packages/store/src/group-commit.ts), through the server:
 * many concurrent turns are all stored, and a process killed while turns are being committed
 * in batches keeps every turn it had answered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '@colloquy/testing';
import { converse, storedMessages, useServer, type Json } from './support/http-helpers.ts';

/** What a blocking turn answered: the ids and the answer the client was given. */
interface Acknowledged {
  user: string;
  conversationId: string;
  messageId: string;
  answer: string;
  query: string;
}

async function blockingTurn(url: string, user: string, query: string, conversationId?: string): Promise<Acknowledged> {
  const res = await converse(url, { query, user, response_mode: 'blocking', ...(conversationId ? { conversation_id: conversationId } : {}) });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  const body = res.body as Json;
  return { user, conversationId: body.conversation_id, messageId: body.message_id, answer: body.answer, query };
}

/** Every acknowledged turn is stored whole: the user's message and the completed answer it was given. */
async function expectStored(url: string, turns: Acknowledged[]): Promise<void> {
  const byConversation = new Map<string, Acknowledged[]>();
  for (const t of turns) byConversation.set(`${t.user}\n${t.conversationId}`, [...(byConversation.get(`${t.user}\n${t.conversationId}`) ?? []), t]);
  for (const group of byConversation.values()) {
    const messages = await storedMessages(url, group[0]!.conversationId, group[0]!.user);
    for (const t of group) {
      const i = messages.findIndex((m: Json) => m.id === t.messageId);
      expect(i, `turn ${t.messageId} of ${t.user}`).toBeGreaterThan(0);
      expect(messages[i]).toMatchObject({ role: 'assistant', status: 'complete', content: t.answer });
      expect(messages[i - 1]).toMatchObject({ role: 'user', content: t.query });
    }
  }
}

describe.each(['better-sqlite3', 'libsql'])('concurrent turns on %s', (driver) => {
  const server = useServer({ SQLITE_DRIVER: driver, RATE_LIMIT_PER_MINUTE: '0' });

  it('stores every one of many concurrent turns, and each conversation continues from its own last turn', async () => {
    const { url } = server();
    // 40 users at once, each with a conversation of 5 turns in sequence (4 users per batch or more).
    const turns = (
      await Promise.all(
        Array.from({ length: 40 }, async (_, u) => {
          const user = `load-${u}`;
          const mine: Acknowledged[] = [];
          for (let i = 0; i < 5; i++) mine.push(await blockingTurn(url, user, `question ${i} from ${user}`, mine[0]?.conversationId));
          return mine;
        }),
      )
    ).flat();
    expect(new Set(turns.map((t) => t.messageId)).size).toBe(200);
    await expectStored(url, turns);
    // Each conversation holds exactly its own five turns, in order.
    for (let u = 0; u < 40; u++) {
      const mine = turns.filter((t) => t.user === `load-${u}`);
      expect(new Set(mine.map((t) => t.conversationId)).size).toBe(1);
      const messages = await storedMessages(url, mine[0]!.conversationId, `load-${u}`);
      expect(messages.filter((m: Json) => m.role === 'assistant').map((m: Json) => m.id)).toEqual(mine.map((t) => t.messageId));
    }
  });
});

describe('a server killed during batched commits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every turn it acknowledged, whole, after a restart on the same file', async () => {
    const env = { DATA_DIR: join(dir, 'data'), LOCAL_AGENT_DELTA_DELAY_MS: '0', RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info' };
    const first = await startServerProcess(env);
    const acknowledged: Acknowledged[] = [];
    let killed = false;
    // 48 clients in a loop, each a user of its own continuing one conversation; killed once
    // 150 turns were answered, while the others are queued or committing.
    const clients = Array.from({ length: 48 }, async (_, c) => {
      const user = `crash-${c}`;
      let conversationId: string | undefined;
      for (let i = 0; !killed; i++) {
        const query = `question ${i} from ${user}`;
        let res: Response;
        try {
          res = await fetch(`${first.url}/converse`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, user, response_mode: 'blocking', ...(conversationId ? { conversation_id: conversationId } : {}) }),
          });
        } catch {
          return; // the process is gone
        }
        let body: Json;
        try {
          body = await res.json();
        } catch {
          return; // killed while answering: not acknowledged
        }
        expect(res.status, JSON.stringify(body)).toBe(200);
        conversationId = body.conversation_id as string;
        acknowledged.push({ user, conversationId, messageId: body.message_id, answer: body.answer, query });
        if (acknowledged.length >= 150 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    });
    await Promise.all(clients);
    expect(await first.exited).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(150);

    const second = await startServerProcess(env);
    try {
      await expectStored(second.url, acknowledged);
    } finally {
      await second.stop();
    }
  });
});
