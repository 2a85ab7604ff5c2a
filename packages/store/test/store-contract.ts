import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationRecord, FileRecord, MessageRecord, Store } from '../src/index.ts';
import { messageRecord } from './support/records.ts';

/** The behaviour every Store implementation must have. `open` returns a fresh, empty store. */
export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const conversation = (over: Partial<ConversationRecord> = {}): ConversationRecord => ({
      id: randomUUID(),
      userId: 'alice',
      agentId: 'local',
      name: 'hello',
      managerId: null,
      upstreamId: null,
      inputs: {},
      createdAt: 1_000,
      updatedAt: 1_000,
      ...over,
    });
    const message = messageRecord;
    const file = (over: Partial<FileRecord> = {}): FileRecord => ({
      id: randomUUID(),
      userId: 'alice',
      name: 'a.txt',
      size: 3,
      mimeType: 'text/plain',
      sha256: 'abc',
      originKind: 'path',
      origin: 'a.txt',
      text: 'abc',
      upstreamIds: {},
      createdAt: 1_000,
      ...over,
    });

    it('creates, reads, renames and deletes a conversation with its messages', async () => {
      const c = conversation({ managerId: 'm1' });
      const user = message(c.id);
      const assistant = message(c.id, { role: 'assistant', status: 'streaming', content: '' });
      await store.beginTurn({ conversation: { create: c }, userMessage: user, assistantMessage: assistant });
      expect(await store.conversations.get('alice', c.id)).toEqual(c);
      expect((await store.messages.listAll('alice', c.id)).map((m) => m.id)).toEqual([user.id, assistant.id]);

      const renamed = await store.conversations.update('alice', c.id, { name: 'renamed', updatedAt: 2_000, upstreamId: 'up-1' });
      expect(renamed).toMatchObject({ name: 'renamed', updatedAt: 2_000, upstreamId: 'up-1' });

      expect(await store.conversations.delete('alice', c.id)).toBe(true);
      expect(await store.conversations.get('alice', c.id)).toBeUndefined();
      expect(await store.messages.get(user.id)).toBeUndefined();
      expect(await store.conversations.delete('alice', c.id)).toBe(false);
    });

    it('beginTurn is atomic: a failing message insert leaves no conversation behind', async () => {
      const c = conversation();
      const m = message(c.id);
      await expect(
        store.beginTurn({ conversation: { create: c }, userMessage: m, assistantMessage: { ...m } }),
      ).rejects.toThrow();
      expect(await store.conversations.get('alice', c.id)).toBeUndefined();
      expect(await store.messages.get(m.id)).toBeUndefined();
    });

    it('touching a conversation on a later turn updates updated_at and keeps messages in order', async () => {
      const c = conversation();
      await store.beginTurn({ conversation: { create: c }, userMessage: message(c.id), assistantMessage: message(c.id, { role: 'assistant' }) });
      const u2 = message(c.id, { createdAt: 900 });
      const a2 = message(c.id, { role: 'assistant', createdAt: 900 });
      await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 5_000 } }, userMessage: u2, assistantMessage: a2 });
      expect((await store.conversations.get('alice', c.id))?.updatedAt).toBe(5_000);
      const all = await store.messages.listAll('alice', c.id);
      expect(all.slice(2).map((m) => m.id)).toEqual([u2.id, a2.id]);
    });

    it('historyPage: newest first from a message id, then from a seq cursor, the user\'s own only', async () => {
      const c = conversation();
      const ms: MessageRecord[] = [];
      for (let i = 0; i < 5; i++) {
        const u = message(c.id, { content: `u${i}` });
        const a = message(c.id, { role: 'assistant', content: `a${i}`, status: i === 4 ? 'streaming' : 'complete' });
        await store.beginTurn({ conversation: i === 0 ? { create: c } : { touch: { userId: 'alice', id: c.id, updatedAt: 1_000 + i } }, userMessage: u, assistantMessage: a });
        ms.push(u, a);
      }
      const first = await store.messages.historyPage('alice', c.id, { id: ms[8]!.id }, 3);
      expect(first.map((m) => [m.role, m.content, m.status])).toEqual([
        ['assistant', 'a3', 'complete'],
        ['user', 'u3', 'complete'],
        ['assistant', 'a2', 'complete'],
      ]);
      const next = await store.messages.historyPage('alice', c.id, { seq: first[2]!.seq }, 10);
      expect(next.map((m) => m.content)).toEqual(['u2', 'a1', 'u1', 'a0', 'u0']);
      expect(await store.messages.historyPage('alice', c.id, { seq: next[4]!.seq }, 10)).toEqual([]);
      expect(await store.messages.historyPage('bob', c.id, { id: ms[8]!.id }, 10)).toEqual([]);
      expect(await store.messages.historyPage('alice', c.id, { id: 'no-such-message' }, 10)).toEqual([]);
    });

    it('historySince: the messages from a seq up to a message, oldest first, with the count of the window\'s rest', async () => {
      const c = conversation();
      const ms: MessageRecord[] = [];
      for (let i = 0; i < 4; i++) {
        const u = message(c.id, { content: `u${i}`, fileIds: i === 2 ? ['f2'] : [] });
        const a = message(c.id, { role: 'assistant', content: `a${i}`, status: i === 3 ? 'streaming' : 'complete' });
        await store.beginTurn({ conversation: i === 0 ? { create: c } : { touch: { userId: 'alice', id: c.id, updatedAt: 1_000 + i } }, userMessage: u, assistantMessage: a });
        ms.push(u, a);
      }
      const seqs = (await store.messages.historyPage('alice', c.id, { id: ms[7]!.id }, 10)).map((m) => m.seq).reverse();
      const since = await store.messages.historySince('alice', c.id, { windowStart: seqs[1]!, fromSeq: seqs[3]! }, ms[6]!.id, 10);
      expect(since.settled).toBe(2);
      expect(since.rows.map((m) => [m.role, m.content, m.status, m.fileIds])).toEqual([
        ['assistant', 'a1', 'complete', []],
        ['user', 'u2', 'complete', ['f2']],
        ['assistant', 'a2', 'complete', []],
      ]);
      expect(since.rows[0]!.seq).toBe(seqs[3]);
      // At most `limit` rows; the count is the same.
      expect(await store.messages.historySince('alice', c.id, { windowStart: seqs[1]!, fromSeq: seqs[3]! }, ms[6]!.id, 1)).toMatchObject({ settled: 2, rows: [{ content: 'a1' }] });
      // Another user's name for the conversation id, an unknown anchor, a deleted conversation: nothing.
      expect((await store.messages.historySince('bob', c.id, { windowStart: seqs[0]!, fromSeq: seqs[1]! }, ms[6]!.id, 10)).rows).toEqual([]);
      expect((await store.messages.historySince('alice', c.id, { windowStart: seqs[0]!, fromSeq: seqs[1]! }, 'no-such-message', 10)).rows).toEqual([]);
      await store.conversations.delete('alice', c.id);
      expect(await store.messages.historySince('alice', c.id, { windowStart: seqs[0]!, fromSeq: seqs[1]! }, ms[6]!.id, 10)).toEqual({ settled: 0, rows: [] });
    });

    it('fileIdsBefore: the file lists of the earlier messages that carry files, oldest first, the user\'s own', async () => {
      const c = conversation();
      const u1 = message(c.id, { fileIds: ['f1', 'f2'] });
      await store.beginTurn({ conversation: { create: c }, userMessage: u1, assistantMessage: message(c.id, { role: 'assistant' }) });
      const u2 = message(c.id);
      await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 2_000 } }, userMessage: u2, assistantMessage: message(c.id, { role: 'assistant' }) });
      const u3 = message(c.id, { fileIds: ['f3'] });
      await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 3_000 } }, userMessage: u3, assistantMessage: message(c.id, { role: 'assistant' }) });
      const u4 = message(c.id, { fileIds: ['f4'] });
      await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 4_000 } }, userMessage: u4, assistantMessage: message(c.id, { role: 'assistant' }) });
      expect(await store.messages.fileIdsBefore('alice', c.id, u4.id)).toEqual([['f1', 'f2'], ['f3']]);
      expect(await store.messages.fileIdsBefore('alice', c.id, u2.id)).toEqual([['f1', 'f2']]);
      expect(await store.messages.fileIdsBefore('alice', c.id, u1.id)).toEqual([]);
      // Another user's name for the same conversation id, or an unknown anchor: nothing.
      expect(await store.messages.fileIdsBefore('bob', c.id, u4.id)).toEqual([]);
      expect(await store.messages.fileIdsBefore('alice', c.id, 'no-such-message')).toEqual([]);
    });

    it('lists a user\'s conversations newest first with keyset pagination and filters', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const c = conversation({ id: `c${i}`, updatedAt: 1_000 + Math.floor(i / 2), managerId: i % 2 === 0 ? 'even' : 'odd' });
        await store.conversations.create(c);
        ids.push(c.id);
      }
      await store.conversations.create(conversation({ id: 'bob-1', userId: 'bob', updatedAt: 9_999 }));

      const seen: string[] = [];
      let after: { updatedAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.conversations.list({ userId: 'alice', limit: 3, after });
        seen.push(...page.map((c) => c.id));
        const last = page.at(-1);
        if (page.length < 3 || !last) break;
        after = { updatedAt: last.updatedAt, id: last.id };
      }
      expect(seen).toEqual(['c6', 'c5', 'c4', 'c3', 'c2', 'c1', 'c0']);

      const evens = await store.conversations.list({ userId: 'alice', managerId: 'even', limit: 10 });
      expect(evens.map((c) => c.id)).toEqual(['c6', 'c4', 'c2', 'c0']);
      const everyone = await store.conversations.list({ limit: 100 });
      expect(everyone[0]?.id).toBe('bob-1');
      expect(everyone).toHaveLength(8);
      expect((await store.conversations.latestForUser('alice'))?.id).toBe('c6');
      expect(await store.conversations.latestForUser('nobody')).toBeUndefined();
    });

    it('pages messages oldest first and updates them', async () => {
      const c = conversation();
      await store.conversations.create(c);
      const made: MessageRecord[] = [];
      for (let i = 0; i < 3; i++) {
        const u = message(c.id, { content: `q${i}` });
        const a = message(c.id, { role: 'assistant', content: '', status: 'streaming' });
        await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 2_000 + i } }, userMessage: u, assistantMessage: a });
        made.push(u, a);
      }
      const first = await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 4 });
      expect(first.map((m) => m.id)).toEqual(made.slice(0, 4).map((m) => m.id));
      const second = await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 4, afterId: first.at(-1)?.id });
      expect(second.map((m) => m.id)).toEqual(made.slice(4).map((m) => m.id));

      const target = made[1] as MessageRecord;
      const updated = await store.messages.update(target.id, {
        content: 'answer',
        status: 'complete',
        usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
        citations: [{ fileId: null, fileName: 'a.txt', passage: 'p', score: 1.5 }],
        lastEventId: 12,
        updatedAt: 3_000,
      });
      expect(updated).toMatchObject({
        content: 'answer',
        status: 'complete',
        usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
        citations: [{ fileId: null, fileName: 'a.txt', passage: 'p', score: 1.5 }],
        lastEventId: 12,
      });
    });

    it('pages messages backwards from the end or from before a message, each page oldest first', async () => {
      const c = conversation();
      await store.conversations.create(c);
      const made: MessageRecord[] = [];
      for (let i = 0; i < 3; i++) {
        const u = message(c.id, { content: `q${i}` });
        const a = message(c.id, { role: 'assistant', content: `a${i}` });
        await store.beginTurn({ conversation: { touch: { userId: 'alice', id: c.id, updatedAt: 2_000 + i } }, userMessage: u, assistantMessage: a });
        made.push(u, a);
      }
      const ids = (ms: MessageRecord[]) => ms.map((m) => m.id);
      const last = await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 4, fromEnd: true });
      expect(ids(last)).toEqual(ids(made.slice(2)));
      const before = await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 4, beforeId: made[2]!.id });
      expect(ids(before)).toEqual(ids(made.slice(0, 2)));
      const window = await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 2, beforeId: made[5]!.id });
      expect(ids(window)).toEqual(ids(made.slice(3, 5)));
      // Another user's message of that id is no anchor here: nothing before it in this conversation.
      expect(await store.messages.list({ userId: 'bob', conversationId: c.id, limit: 4, fromEnd: true })).toEqual([]);
    });

    it('keeps the inputs a conversation was started with (default {})', async () => {
      const c = conversation({ inputs: { topic: 'cats', n: 2, nested: { ok: true } } });
      await store.conversations.create(c);
      expect((await store.conversations.get('alice', c.id))?.inputs).toEqual({ topic: 'cats', n: 2, nested: { ok: true } });
      const { inputs: _omit, ...withoutInputs } = conversation({ id: 'plain' });
      const u = message('plain');
      const a = message('plain', { role: 'assistant' });
      await store.beginTurn({ conversation: { create: withoutInputs }, userMessage: u, assistantMessage: a });
      expect((await store.conversations.get('alice', 'plain'))?.inputs).toEqual({});
      expect((await store.conversations.list({ userId: 'alice', limit: 10 })).map((x) => x.inputs)).toContainEqual({ topic: 'cats', n: 2, nested: { ok: true } });
    });

    it('stores each patch shape in its own columns, whatever shapes came before (statements are reused)', async () => {
      const c = conversation();
      const a = message(c.id, { role: 'assistant', content: '', status: 'streaming' });
      await store.beginTurn({ conversation: { create: c }, userMessage: message(c.id), assistantMessage: a });
      // The flush shape, the final shape, then the flush shape again: each must bind its own values.
      expect(await store.messages.update(a.id, { content: 'par', updatedAt: 4_001 })).toMatchObject({ content: 'par', status: 'streaming', updatedAt: 4_001 });
      expect(
        await store.messages.update(a.id, { content: 'partial', status: 'stopped', error: 'why', lastEventId: 7, updatedAt: 4_002 }),
      ).toMatchObject({ content: 'partial', status: 'stopped', error: 'why', lastEventId: 7, updatedAt: 4_002 });
      expect(await store.messages.update(a.id, { content: 'again', updatedAt: 4_003 })).toMatchObject({
        content: 'again',
        status: 'stopped',
        error: 'why',
        lastEventId: 7,
        updatedAt: 4_003,
      });
      // A conversation with a manager and one without: null and a value in the same slot.
      const managed = conversation({ managerId: 'm-1' });
      await store.beginTurn({ conversation: { create: managed }, userMessage: message(managed.id), assistantMessage: message(managed.id, { role: 'assistant' }) });
      expect((await store.conversations.get('alice', managed.id))?.managerId).toBe('m-1');
      expect((await store.conversations.get('alice', c.id))?.managerId).toBeNull();
      expect(await store.conversations.update('alice', c.id, { name: 'renamed' })).toMatchObject({ name: 'renamed', managerId: null });
      expect(await store.conversations.update('alice', c.id, { upstreamId: 'up-1', updatedAt: 4_004 })).toMatchObject({ name: 'renamed', upstreamId: 'up-1', updatedAt: 4_004 });
    });

    it('marks messages left streaming as interrupted, keeping their text', async () => {
      const c = conversation();
      const a = message(c.id, { role: 'assistant', status: 'streaming', content: 'partial' });
      await store.beginTurn({ conversation: { create: c }, userMessage: message(c.id), assistantMessage: a });
      expect(await store.messages.interruptStreaming(9_000)).toBe(1);
      expect(await store.messages.get(a.id)).toMatchObject({ status: 'interrupted', content: 'partial', updatedAt: 9_000 });
      expect(await store.messages.interruptStreaming(9_001)).toBe(0);
    });

    it('returns the record unchanged for an empty patch and undefined for a missing id', async () => {
      const c = conversation({ managerId: 'm' });
      const u = message(c.id, { usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } });
      await store.beginTurn({ conversation: { create: c }, userMessage: u, assistantMessage: message(c.id, { role: 'assistant' }) });
      expect(await store.conversations.update('alice', c.id, {})).toEqual(c);
      expect(await store.messages.update(u.id, {})).toEqual(u);
      expect(await store.conversations.update('alice', 'missing', {})).toBeUndefined();
      expect(await store.conversations.update('alice', 'missing', { name: 'x' })).toBeUndefined();
      expect(await store.messages.update('missing', { content: 'x' })).toBeUndefined();
      expect(await store.messages.list({ userId: 'alice', conversationId: c.id, limit: 10, afterId: 'missing' })).toEqual([]);
    });

    it('keeps epoch-ms timestamps and large sizes exact, as numbers', async () => {
      const now = 1_764_000_000_123;
      const c = conversation({ createdAt: now, updatedAt: now + 1 });
      const a = message(c.id, { role: 'assistant', status: 'streaming', lastEventId: 3_000_000_000, createdAt: now, updatedAt: now });
      await store.beginTurn({ conversation: { create: c }, userMessage: message(c.id, { createdAt: now, updatedAt: now }), assistantMessage: a });
      expect(await store.conversations.get('alice', c.id)).toEqual(c);
      expect(await store.messages.get(a.id)).toEqual(a);
      expect(await store.conversations.list({ limit: 1, after: { updatedAt: now + 2, id: '' } })).toEqual([c]);

      const f = file({ size: 5_000_000_000, createdAt: now });
      await store.files.insertMany([f]);
      expect(await store.files.get(f.id)).toEqual(f);
      const count = await store.files.countBySha256(f.sha256);
      expect(count).toBe(1);
      expect(typeof count).toBe('number');
      const interrupted = await store.messages.interruptStreaming(now + 5);
      expect(interrupted).toBe(1);
      expect(typeof interrupted).toBe('number');
    });

    it('breaks updated_at / created_at ties by id compared bytewise', async () => {
      const ids = ['a-1', 'A_2', 'b', 'B', 'a_1', 'a1', 'Z', '_'];
      const expected = [...ids].sort().reverse();
      for (const id of ids) {
        await store.conversations.create(conversation({ id, updatedAt: 7_000 }));
        await store.files.insertMany([file({ id, sha256: `sha-${id}`, createdAt: 7_000 })]);
      }
      const conversations: string[] = [];
      let after: { updatedAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.conversations.list({ userId: 'alice', limit: 3, after });
        conversations.push(...page.map((c) => c.id));
        const last = page.at(-1);
        if (page.length < 3 || !last) break;
        after = { updatedAt: last.updatedAt, id: last.id };
      }
      expect(conversations).toEqual(expected);

      const files: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await store.files.list({ userId: 'alice', limit: 3, afterId });
        files.push(...page.map((f) => f.id));
        afterId = page.at(-1)?.id;
        if (page.length < 3) break;
      }
      expect(files).toEqual(expected);
    });

    it('keeps conversation ids per user: the same id of two users names two conversations', async () => {
      const a = conversation({ id: 'shared', userId: 'alice', updatedAt: 5_000 });
      const b = conversation({ id: 'shared', userId: 'bob', name: 'bob’s', updatedAt: 5_000 });
      const aq = message('shared', { content: 'alice asks' });
      const bq = message('shared', { userId: 'bob', content: 'bob asks' });
      await store.beginTurn({ conversation: { create: a }, userMessage: aq, assistantMessage: message('shared', { role: 'assistant' }) });
      await store.beginTurn({
        conversation: { create: b },
        userMessage: bq,
        assistantMessage: message('shared', { userId: 'bob', role: 'assistant' }),
      });
      expect(await store.conversations.get('alice', 'shared')).toEqual(a);
      expect(await store.conversations.get('bob', 'shared')).toEqual(b);
      expect(await store.conversations.get('carol', 'shared')).toBeUndefined();
      expect((await store.conversations.findById('shared', 5)).map((c) => c.userId)).toEqual(['alice', 'bob']);
      expect(await store.conversations.findById('shared', 1)).toHaveLength(1);
      expect(await store.conversations.findById('nobody-has-it', 5)).toEqual([]);
      expect((await store.messages.listAll('bob', 'shared')).map((m) => m.content)).toEqual(['bob asks', 'hi']);
      expect(await store.messages.get(bq.id)).toMatchObject({ userId: 'bob', conversationId: 'shared' });
      expect((await store.messages.list({ userId: 'alice', conversationId: 'shared', limit: 10 })).map((m) => m.id)[0]).toBe(aq.id);

      // Listing every user's: same id, same time — both, one per page, the user breaking the tie.
      const first = await store.conversations.list({ limit: 1 });
      const last = first[0]!;
      const second = await store.conversations.list({ limit: 1, after: { updatedAt: last.updatedAt, id: last.id, userId: last.userId } });
      expect([...first, ...second].map((c) => c.userId).sort()).toEqual(['alice', 'bob']);

      expect(await store.conversations.update('bob', 'shared', { name: 'renamed' })).toMatchObject({ userId: 'bob', name: 'renamed' });
      expect((await store.conversations.get('alice', 'shared'))?.name).toBe('hello');
      await store.beginTurn({
        conversation: { touch: { userId: 'alice', id: 'shared', updatedAt: 6_000 } },
        userMessage: message('shared', { content: 'again' }),
        assistantMessage: message('shared', { role: 'assistant' }),
      });
      expect((await store.conversations.get('bob', 'shared'))?.updatedAt).toBe(5_000);
      expect(await store.conversations.delete('alice', 'shared')).toBe(true);
      expect(await store.conversations.get('bob', 'shared')).toMatchObject({ name: 'renamed' });
      expect(await store.messages.listAll('bob', 'shared')).toHaveLength(2);
      expect(await store.messages.listAll('alice', 'shared')).toEqual([]);
      expect(await store.messages.get(aq.id)).toBeUndefined();
    });

    it('lists files without their text (hasText), and reads the text only where asked', async () => {
      const withText = file({ origin: 'a.txt', text: 'words '.repeat(1000) });
      const without = file({ origin: 'b.bin', sha256: 'bin', text: '' });
      await store.files.insertMany([withText, without]);
      const listed = await store.files.list({ userId: 'alice', limit: 10 });
      expect(listed.map((f) => [f.origin, f.hasText, 'text' in f])).toEqual(
        expect.arrayContaining([
          ['a.txt', true, false],
          ['b.bin', false, false],
        ]),
      );
      expect(await store.files.getSummary(withText.id)).toMatchObject({ id: withText.id, hasText: true });
      expect((await store.files.getSummary(withText.id)) as object).not.toHaveProperty('text');
      expect((await store.files.get(withText.id))?.text).toBe(withText.text);
      expect((await store.files.get(without.id))?.text).toBe('');
      expect((await store.files.findByOrigin('a.txt', 'alice'))?.text).toBe(withText.text);
      expect(await store.files.findByOwnerAndContent('alice', 'abc', 'a.txt')).toMatchObject({ hasText: true });
      expect(await store.files.delete(withText.id)).toBe(true);
      expect(await store.files.get(withText.id)).toBeUndefined();
    });

    it('stores files in batches, all or nothing, and finds them by origin and content', async () => {
      const f1 = file({ origin: 'docs/a.txt', createdAt: 1 });
      const f2 = file({ origin: 'docs/b.txt', sha256: 'def', createdAt: 2 });
      await store.files.insertMany([f1, f2]);
      await expect(store.files.insertMany([file({ origin: 'new.txt' }), { ...f1, origin: 'dup-id.txt' }])).rejects.toThrow();
      expect(await store.files.findByOrigin('new.txt')).toBeUndefined();
      // Same owner, content and origin as an existing record: skipped, the first one stands.
      await store.files.insertMany([file({ origin: 'docs/a.txt' })]);
      expect((await store.files.findByOwnerAndContent('alice', 'abc', 'docs/a.txt'))?.id).toBe(f1.id);
      expect(await store.files.countBySha256('abc')).toBe(1);

      expect((await store.files.findByOrigin('docs/a.txt', 'alice'))?.id).toBe(f1.id);
      expect(await store.files.findByOrigin('docs/a.txt', 'bob')).toBeUndefined();
      expect((await store.files.findByOwnerAndContent('alice', 'def', 'docs/b.txt'))?.id).toBe(f2.id);
      expect(await store.files.countBySha256('abc')).toBe(1);

      await store.files.setUpstreamId(f1.id, 'dify', 'up-9');
      expect((await store.files.get(f1.id))?.upstreamIds).toEqual({ dify: 'up-9' });

      const page1 = await store.files.list({ userId: 'alice', limit: 1 });
      expect(page1.map((f) => f.id)).toEqual([f2.id]);
      const page2 = await store.files.list({ userId: 'alice', limit: 1, afterId: f2.id });
      expect(page2.map((f) => f.id)).toEqual([f1.id]);

      expect(await store.files.delete(f1.id)).toBe(true);
      expect(await store.files.get(f1.id)).toBeUndefined();
      await store.ping();
    });

    it('keeps file contents in chunks: written once, read back in order, removed', async () => {
      const big = new Uint8Array(700_000).map((_, i) => i % 251);
      const chunks = [big.subarray(0, 262_144), big.subarray(262_144, 524_288), big.subarray(524_288)];
      expect(await store.blobContents.has('sha-big')).toBe(false);
      expect(await store.blobContents.write('sha-big', chunks)).toBe(true);
      expect(await store.blobContents.write('sha-big', chunks)).toBe(false);
      const back: Uint8Array[] = [];
      for await (const c of store.blobContents.read('sha-big')) back.push(c);
      expect(back.map((c) => c.length)).toEqual([262_144, 262_144, 175_712]);
      expect(Buffer.concat(back).equals(Buffer.from(big))).toBe(true);
      expect(await store.blobContents.write('sha-empty', [])).toBe(true);
      expect(await store.blobContents.has('sha-empty')).toBe(true);
      await store.blobContents.remove('sha-big');
      expect(await store.blobContents.has('sha-big')).toBe(false);
      const none: Uint8Array[] = [];
      for await (const c of store.blobContents.read('sha-big')) none.push(c);
      expect(none).toEqual([]);
    });

    it('records each turn’s owner instance and interrupts only the answers of instances that are gone', async () => {
      const c = conversation({ id: 'owned' });
      await store.conversations.create(c);
      const mine = message(c.id, { role: 'assistant', status: 'streaming' });
      const theirs = message(c.id, { role: 'assistant', status: 'streaming' });
      const orphan = message(c.id, { role: 'assistant', status: 'streaming' });
      await store.beginTurn({ conversation: { touch: { userId: c.userId, id: c.id, updatedAt: 2 } }, userMessage: message(c.id), assistantMessage: mine, ownerInstance: 'live' });
      await store.beginTurn({ conversation: { touch: { userId: c.userId, id: c.id, updatedAt: 3 } }, userMessage: message(c.id), assistantMessage: theirs, ownerInstance: 'dead' });
      await store.beginTurn({ conversation: { touch: { userId: c.userId, id: c.id, updatedAt: 4 } }, userMessage: message(c.id), assistantMessage: orphan, ownerInstance: 'unknown' });
      for (const id of ['live', 'dead']) await store.instances.renew({ id, machine: 'm', pid: 1, startedAt: 1, expiresAt: 10 });
      await store.instances.renew({ id: 'live', machine: 'm', pid: 1, startedAt: 1, expiresAt: 20 });
      expect((await store.instances.list()).find((i) => i.id === 'live')?.expiresAt).toBe(20);
      expect(await store.messages.ownerOf(mine.id)).toBe('live');
      const interrupted = await store.messages.interruptOrphaned(['dead'], 15);
      expect(interrupted.map((m) => m.id).sort()).toEqual([theirs.id, orphan.id].sort());
      expect((await store.messages.get(mine.id))?.status).toBe('streaming');
      expect((await store.messages.get(theirs.id))?.status).toBe('interrupted');
      await store.instances.remove(['dead']);
      expect((await store.instances.list()).map((i) => i.id)).toEqual(['live']);
    });
  });
}
