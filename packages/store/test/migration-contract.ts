import { expect, it } from 'vitest';
import { Migrator, sql, type Kysely } from 'kysely';
import { migrationProvider, type ColumnTypes } from '../src/migrations.ts';
import type { MessageRecord, Store } from '../src/index.ts';

/** The last migration of the released schema these tests start from. */
const OLD_VERSION = '0003_conversations_manager_partial';

export interface OldDatabase {
  /** A database on the same file / schema the store will open. */
  db: Kysely<unknown>;
  types: ColumnTypes;
  /** PostgreSQL: the schema to keep Kysely's bookkeeping in (its existence check spans every schema). */
  migrationTableSchema?: string;
  /** Closes `db`. */
  close(): Promise<void>;
  /** Opens the store on it (which migrates it to the latest version). */
  openStore(): Promise<Store>;
}

/**
 * A database created by an earlier release (migrated to 0003, with the rows that release wrote:
 * conversation ids global, files with their text inline) is migrated when the store opens it,
 * keeping every record.
 */
export function runMigrationContract(name: string, createOld: () => Promise<OldDatabase>): void {
  it(`${name}: migrates a database of schema ${OLD_VERSION}, keeping its conversations, messages and files`, async () => {
    const old = await createOld();
    const migrator = new Migrator({
      db: old.db,
      provider: migrationProvider(old.types),
      ...(old.migrationTableSchema ? { migrationTableSchema: old.migrationTableSchema } : {}),
    });
    const { error } = await migrator.migrateTo(OLD_VERSION);
    expect(error).toBeUndefined();
    await sql`insert into conversations (id, user_id, agent_id, name, manager_id, upstream_id, created_at, updated_at) values
      ('conv456', 'user123', 'local', 'old one', 'manager789', null, 1000, 2000),
      ('other', 'bob', 'dify', 'bob''s', null, 'up-1', 1500, 1500)`.execute(old.db);
    await sql`insert into messages (id, conversation_id, role, content, file_ids, status, usage, citations, error, last_event_id, created_at, updated_at) values
      ('m1', 'conv456', 'user', 'q1', '[]', 'complete', null, '[]', null, 0, 1000, 1000),
      ('m2', 'conv456', 'assistant', 'a1', '["f1"]', 'complete', '{"promptTokens":1,"completionTokens":2,"totalTokens":3}', '[]', null, 7, 1000, 2000),
      ('m3', 'other', 'user', 'bob asks', '[]', 'streaming', null, '[]', null, 0, 1500, 1500)`.execute(old.db);
    await sql`insert into files (id, user_id, name, size, mime_type, sha256, origin_kind, origin, text, upstream_ids, created_at) values
      ('f1', 'user123', 'a.txt', 5, 'text/plain', 'sha-a', 'path', 'a.txt', 'hello', '{}', 900),
      ('f2', 'user123', 'b.png', 9, 'image/png', 'sha-b', 'upload', 'b.png', '', '{"dify":"u-2"}', 901)`.execute(old.db);
    await old.close();

    const store = await old.openStore();
    try {
      expect(await store.conversations.get('user123', 'conv456')).toMatchObject({ name: 'old one', managerId: 'manager789', updatedAt: 2000 });
      expect(await store.conversations.get('bob', 'other')).toMatchObject({ agentId: 'dify', upstreamId: 'up-1' });
      expect(await store.conversations.get('bob', 'conv456')).toBeUndefined();
      const messages = await store.messages.listAll('user123', 'conv456');
      expect(messages.map((m) => [m.id, m.userId, m.lastEventId])).toEqual([
        ['m1', 'user123', 0],
        ['m2', 'user123', 7],
      ]);
      expect(messages[1]).toMatchObject({ fileIds: ['f1'], usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } });
      expect(await store.messages.get('m3')).toMatchObject({ userId: 'bob', status: 'streaming' });
      expect(await store.files.get('f1')).toMatchObject({ text: 'hello' });
      expect(await store.files.getSummary('f1')).toMatchObject({ hasText: true });
      expect(await store.files.get('f2')).toMatchObject({ text: '', upstreamIds: { dify: 'u-2' } });
      expect((await store.files.list({ limit: 10 })).map((f) => [f.id, f.hasText])).toEqual([
        ['f2', false],
        ['f1', true],
      ]);

      // New records after the old ones: messages keep their order, another user may reuse the id.
      const next = (id: string, userId: string, role: MessageRecord['role']): MessageRecord => ({
        id, userId, conversationId: 'conv456', role, content: id, fileIds: [], status: 'complete', usage: null, citations: [],
        error: null, lastEventId: 0, createdAt: 3000, updatedAt: 3000,
      });
      await store.beginTurn({
        conversation: { touch: { userId: 'user123', id: 'conv456', updatedAt: 3000 } },
        userMessage: next('m4', 'user123', 'user'),
        assistantMessage: next('m5', 'user123', 'assistant'),
      });
      expect((await store.messages.listAll('user123', 'conv456')).map((m) => m.id)).toEqual(['m1', 'm2', 'm4', 'm5']);
      await store.beginTurn({
        conversation: {
          create: { id: 'conv456', userId: 'bob', agentId: 'local', name: 'bob’s own', managerId: null, upstreamId: null, createdAt: 3001, updatedAt: 3001 },
        },
        userMessage: next('m6', 'bob', 'user'),
        assistantMessage: next('m7', 'bob', 'assistant'),
      });
      expect((await store.conversations.findById('conv456', 5)).map((c) => c.userId)).toEqual(['bob', 'user123']);
      expect(await store.conversations.delete('user123', 'conv456')).toBe(true);
      expect((await store.messages.listAll('bob', 'conv456')).map((m) => m.id)).toEqual(['m6', 'm7']);
      expect(await store.files.delete('f1')).toBe(true);
    } finally {
      await store.close();
    }
  });
}
