import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Versioned migrations for PostgreSQL, applied in name order by Kysely's Migrator. They build
 * the same logical schema as ../sqlite/migrations.ts (same tables, columns and indexes) so the
 * shared store code runs unchanged. Never edit a released migration; add the next one, here
 * and in the SQLite list alike.
 *
 * Epoch-ms timestamps, sizes and ids that count up are `bigint` (SQLite's integer is 64-bit
 * too); JSON stays `text`, as on SQLite, so the store encodes and decodes it the same way.
 */

// Ids break ties in keyset pagination. "C" makes them compare bytewise, as SQLite's BINARY
// collation does, so pages come out in the same order whatever the database's locale is.
const idType = sql`text collate "C"`;

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('conversations')
        .addColumn('id', idType, (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('manager_id', 'text')
        .addColumn('upstream_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // "A user's conversations by updated_at" and the unscoped listing, both keyset-paginated.
      await db.schema
        .createIndex('conversations_user_updated')
        .on('conversations')
        .columns(['user_id', 'updated_at desc', 'id desc'])
        .execute();
      await db.schema
        .createIndex('conversations_updated')
        .on('conversations')
        .columns(['updated_at desc', 'id desc'])
        .execute();
      await db.schema
        .createIndex('conversations_manager_updated')
        .on('conversations')
        .columns(['manager_id', 'updated_at desc', 'id desc'])
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('conversation_id', idType, (c) =>
          c.notNull().references('conversations.id').onDelete('cascade'),
        )
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('file_ids', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('usage', 'text')
        .addColumn('citations', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('last_event_id', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('messages_conversation_seq')
        .on('messages')
        .columns(['conversation_id', 'seq'])
        .execute();
      // Start-up recovery looks for messages left streaming.
      await db.schema
        .createIndex('messages_streaming')
        .on('messages')
        .column('status')
        .where(sql.ref('status'), '=', 'streaming')
        .execute();

      await db.schema
        .createTable('files')
        .addColumn('id', idType, (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('origin_kind', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('upstream_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('files_user_created').on('files').columns(['user_id', 'created_at']).execute();
      await db.schema.createIndex('files_origin').on('files').columns(['origin', 'created_at']).execute();
      await db.schema.createIndex('files_sha256').on('files').column('sha256').execute();
    },
  },
  // One record per (owner, content, origin): concurrent uploads of the same file converge on it.
  '0002_files_owner_content_unique': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('files_owner_content_origin')
        .on('files')
        .columns(['user_id', 'sha256', 'origin'])
        .unique()
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
