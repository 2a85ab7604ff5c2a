import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { requiredInCi } from '@colloquy/testing';
import { loadSqliteDriver, openSqliteStore, SQLITE_DRIVERS, type BeginTurn, type MessageRecord } from '../src/index.ts';
import { messageRecord as message } from './support/records.ts';
import { freshSqliteFiles, sqliteDriverLoadError as loads } from './support/sqlite-files.ts';

const freshFile = freshSqliteFiles('colloquy-group-commit-');

/** A new conversation's first turn: the user's message and a streaming assistant message. */
function newTurn(userId = 'alice'): BeginTurn & { conversationId: string; assistantId: string } {
  const id = randomUUID();
  const assistant = message(id, { userId, role: 'assistant', status: 'streaming', content: '' });
  return {
    conversationId: id,
    assistantId: assistant.id,
    conversation: {
      create: { id, userId, agentId: 'local', name: 'n', managerId: null, upstreamId: null, inputs: {}, createdAt: 1_000, updatedAt: 1_000 },
    },
    userMessage: message(id, { userId }),
    assistantMessage: assistant,
  };
}

for (const driver of SQLITE_DRIVERS) {
  describe.runIf(requiredInCi(`store: group commit on ${driver}`, await loads(driver)))(`group commit on ${driver}`, () => {
    it('commits concurrent turns together: when the first caller resumes, every turn of its tick is committed', async () => {
      const filename = freshFile();
      const store = await openSqliteStore({ filename, driver });
      // A second connection sees only what is committed.
      const reader = (await loadSqliteDriver(driver)).open(filename);
      try {
        const turns = Array.from({ length: 10 }, () => newTurn());
        const committedWhenResumed: unknown[] = [];
        await Promise.all(
          turns.map(async (t) => {
            await store.beginTurn(t);
            committedWhenResumed.push(reader.prepare('SELECT count(*) AS n FROM messages').all([]));
          }),
        );
        expect(committedWhenResumed[0]).toEqual([{ n: 20 }]);
      } finally {
        reader.close();
        await store.close();
      }
    });

    it("each caller's later reads see its own writes, among many concurrent turns", async () => {
      const store = await openSqliteStore({ filename: freshFile(), driver });
      try {
        await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const t = newTurn(`user-${i % 7}`);
            await store.beginTurn(t);
            const stored = await store.messages.listAll(`user-${i % 7}`, t.conversationId);
            expect(stored.map((m) => m.id)).toEqual([t.userMessage.id, t.assistantId]);
            const final = await store.messages.update(t.assistantId, { content: `answer ${i}`, status: 'complete', updatedAt: 2_000 });
            expect(final?.content).toBe(`answer ${i}`);
            expect((await store.messages.get(t.assistantId))?.status).toBe('complete');
          }),
        );
      } finally {
        await store.close();
      }
    });

    it("keeps one conversation's writes in the order they were made, within and across batches", async () => {
      const store = await openSqliteStore({ filename: freshFile(), driver });
      try {
        const first = newTurn();
        const c = first.conversationId;
        const writes: Promise<unknown>[] = [store.beginTurn(first), store.messages.update(first.assistantId, { content: 'one', status: 'complete' })];
        const later: { user: MessageRecord; assistant: MessageRecord }[] = [];
        for (let i = 0; i < 20; i++) {
          const user = message(c, { content: `q${i}` });
          const assistant = message(c, { role: 'assistant', status: 'streaming', content: '' });
          later.push({ user, assistant });
          // Not awaited: all are queued before the first commits.
          writes.push(store.beginTurn({ conversation: { touch: { userId: 'alice', id: c, updatedAt: 2_000 + i } }, userMessage: user, assistantMessage: assistant }));
          writes.push(store.messages.update(assistant.id, { content: `partial ${i}` }));
          writes.push(store.messages.update(assistant.id, { content: `a${i}`, status: 'complete' }));
        }
        await Promise.all(writes);
        const all = await store.messages.listAll('alice', c);
        expect(all.map((m) => m.id)).toEqual([first.userMessage.id, first.assistantId, ...later.flatMap((t) => [t.user.id, t.assistant.id])]);
        expect(all.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(['one', ...later.map((_, i) => `a${i}`)]);
        expect((await store.conversations.get('alice', c))?.updatedAt).toBe(2_019);
      } finally {
        await store.close();
      }
    });

    it('fails a bad entry alone, leaving nothing of it, while the rest of its batch commits', async () => {
      const store = await openSqliteStore({ filename: freshFile(), driver });
      try {
        const existing = newTurn();
        await store.beginTurn(existing);
        const good = Array.from({ length: 8 }, () => newTurn());
        // Its assistant message reuses a stored id: the second statement of its transaction fails.
        const bad = { ...newTurn(), assistantMessage: { ...existing.assistantMessage } };
        const badConversation = 'create' in bad.conversation ? bad.conversation.create.id : '';
        const outcomes = await Promise.allSettled([
          ...good.slice(0, 4).map((t) => store.beginTurn(t)),
          store.beginTurn(bad),
          store.messages.update(randomUUID(), { content: 'no such message' }),
          ...good.slice(4).map((t) => store.beginTurn(t)),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([...Array(4).fill('fulfilled'), 'rejected', 'fulfilled', ...Array(4).fill('fulfilled')]);
        for (const t of good) expect((await store.messages.listAll('alice', t.conversationId)).length).toBe(2);
        expect(await store.conversations.get('alice', badConversation)).toBeUndefined();
        expect(await store.messages.get(bad.userMessage.id)).toBeUndefined();
        // The stored message the bad entry collided with is untouched.
        expect((await store.messages.get(existing.assistantId))?.conversationId).toBe(existing.conversationId);
      } finally {
        await store.close();
      }
    });

    it('close() commits everything queued before it closes; later writes are refused', async () => {
      const filename = freshFile();
      const store = await openSqliteStore({ filename, driver });
      const turns = Array.from({ length: 30 }, () => newTurn());
      const writes = turns.map((t) => store.beginTurn(t).then(() => store.messages.update(t.assistantId, { content: 'done', status: 'complete' })));
      // The first writes are queued, not yet committed, when close is called.
      const closing = store.close();
      await closing;
      await Promise.allSettled(writes);
      await expect(store.beginTurn(newTurn())).rejects.toThrow();

      const reopened = await openSqliteStore({ filename, driver });
      try {
        for (const t of turns) expect((await reopened.messages.listAll('alice', t.conversationId)).map((m) => m.id)).toEqual([t.userMessage.id, t.assistantId]);
      } finally {
        await reopened.close();
      }
    });
  });
}
