import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { serviceAvailable, testServices } from '@colloquy/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import { openPostgresStore, openStore, type MessageRecord, type Store } from '../src/index.ts';
import { postgresColumnTypes } from '../src/migrations.ts';
import { runMigrationContract } from './migration-contract.ts';
import { runStoreContract } from './store-contract.ts';

// TEST_DATABASE_URL, else the local PostgreSQL at its default address; in CI a missing one fails.
const url = (await testServices()).postgres;

describe.runIf(serviceAvailable(url, 'PostgreSQL', 'store: PostgreSQL contract'))('PostgreSQL store', () => {
  const connectionString = url ?? '';
  const admin = url ? new Pool({ connectionString, max: 2 }) : undefined;
  const schemas = new Set<string>();
  afterAll(async () => {
    // Safety net for a test that failed before closing its store.
    for (const schema of schemas) await dropSchema(schema);
    await admin?.end();
  });

  const freshSchema = (): string => {
    const schema = `colloquy_test_${randomUUID().replace(/-/g, '')}`;
    schemas.add(schema);
    return schema;
  };
  async function dropSchema(schema: string): Promise<void> {
    await admin?.query(`drop schema if exists "${schema}" cascade`);
    schemas.delete(schema);
  }
  /** The store in its own schema; closing it also drops the schema. */
  async function openIsolated(): Promise<Store> {
    const schema = freshSchema();
    const store = await openPostgresStore({ connectionString, schema });
    return {
      ...store,
      async close() {
        await store.close();
        await dropSchema(schema);
      },
    };
  }

  runStoreContract('postgres', openIsolated);

  describe('postgres migrations', () => {
    runMigrationContract('postgres', async () => {
      const schema = freshSchema();
      await admin!.query(`create schema "${schema}"`);
      const db = new Kysely<unknown>({
        dialect: new PostgresDialect({
          pool: new Pool({ connectionString, max: 1 }),
          onCreateConnection: async (c) => {
            await c.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
          },
        }),
      });
      return {
        db,
        types: postgresColumnTypes,
        migrationTableSchema: schema,
        close: () => db.destroy(),
        async openStore() {
          const store = await openPostgresStore({ connectionString, schema });
          return {
            ...store,
            async close() {
              await store.close();
              await dropSchema(schema);
            },
          };
        },
      };
    });
  });

  describe('postgres specifics', () => {
    const conversation = (id: string) => ({
      id, userId: 'u', agentId: 'local', name: 'n', managerId: null, upstreamId: null, createdAt: 1, updatedAt: 1,
    });
    const message = (conversationId: string, role: MessageRecord['role'], content: string): MessageRecord => ({
      id: randomUUID(), userId: 'u', conversationId, role, content, fileIds: [], status: 'complete', usage: null, citations: [],
      error: null, lastEventId: 0, createdAt: 1, updatedAt: 1,
    });

    it('keeps its tables in the given schema and migrates once across reopen', async () => {
      const schema = freshSchema();
      const a = await openPostgresStore({ connectionString, schema });
      await a.conversations.create(conversation('x'));
      await a.close();
      const b = await openPostgresStore({ connectionString, schema });
      expect((await b.conversations.get('u', 'x'))?.name).toBe('n');
      await b.close();

      const tables = await admin!.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'blob_chunks', 'conversations', 'file_texts', 'files', 'instances', 'kysely_migration', 'kysely_migration_lock', 'messages',
      ]);
      const applied = await admin!.query(`select name from "${schema}".kysely_migration`);
      expect(applied.rows).toEqual([
        { name: '0001_initial' },
        { name: '0002_files_owner_content_unique' },
        { name: '0003_conversations_manager_partial' },
        { name: '0004_file_texts' },
        { name: '0005_conversations_per_user' },
        { name: '0006_instances_and_turn_owner' },
        { name: '0007_blob_chunks' },
        { name: '0008_conversation_inputs' },
        { name: '0009_messages_with_files' },
      ]);
      await dropSchema(schema);
    });

    it('two stores (two pools) on one schema see each other and serialize concurrent turns', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([
        openPostgresStore({ connectionString, schema, poolSize: 5 }),
        openPostgresStore({ connectionString, schema, poolSize: 5 }),
      ]);
      try {
        const c = conversation(randomUUID());
        await a.conversations.create(c);
        expect(await b.conversations.get('u', c.id)).toEqual({ ...c, inputs: {} });

        const turns = Array.from({ length: 20 }, (_, i) => ({
          store: i % 2 === 0 ? a : b,
          user: message(c.id, 'user', `q${i}`),
          assistant: message(c.id, 'assistant', `a${i}`),
          updatedAt: 100 + i,
        }));
        await Promise.all(
          turns.map((t) =>
            t.store.beginTurn({
              conversation: { touch: { userId: 'u', id: c.id, updatedAt: t.updatedAt } },
              userMessage: t.user,
              assistantMessage: t.assistant,
            }),
          ),
        );

        const fromA = await a.messages.listAll('u', c.id);
        const fromB = await b.messages.listAll('u', c.id);
        expect(fromA).toHaveLength(40);
        expect(fromB).toEqual(fromA);
        // Each turn's two messages stay adjacent, the question first.
        for (let i = 0; i < 40; i += 2) {
          const q = fromA[i] as MessageRecord;
          const ans = fromA[i + 1] as MessageRecord;
          expect([q.role, ans.role]).toEqual(['user', 'assistant']);
          expect(ans.content).toBe(q.content.replace('q', 'a'));
        }
        expect(new Set(fromA.map((m) => m.content)).size).toBe(40);

        const f = { id: randomUUID(), userId: 'u', name: 'f', size: 1, mimeType: 'text/plain', sha256: 's', originKind: 'path' as const, origin: 'f', text: '', upstreamIds: {}, createdAt: 1 };
        await b.files.insertMany([f]);
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).files.setUpstreamId(f.id, `agent${i}`, `up${i}`)),
        );
        expect(Object.keys((await a.files.get(f.id))?.upstreamIds ?? {})).toHaveLength(10);

        expect(await b.conversations.delete('u', c.id)).toBe(true);
        expect(await a.messages.listAll('u', c.id)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await dropSchema(schema);
      }
    });

    it('openStore opens postgres:// and postgresql:// URLs as PostgreSQL', async () => {
      const schema = freshSchema();
      await admin!.query(`create schema "${schema}"`);
      for (const scheme of ['postgres:', 'postgresql:']) {
        const u = new URL(connectionString);
        u.protocol = scheme;
        u.searchParams.set('options', `-c search_path=${schema}`);
        const store = await openStore(u.toString());
        expect(store.kind).toBe('postgres');
        await store.ping();
        await store.close();
      }
      const tables = await admin!.query('select 1 from information_schema.tables where table_schema = $1', [schema]);
      expect(tables.rowCount).toBeGreaterThan(0);
      await dropSchema(schema);
    });
  });
});
