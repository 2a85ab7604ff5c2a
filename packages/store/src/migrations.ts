import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider, type RawBuilder } from 'kysely';

/**
 * The schema's versioned migrations, one list for every dialect, applied in name order by
 * Kysely's Migrator. Only column types differ per dialect (`ColumnTypes`), so SQLite and
 * PostgreSQL always have the same tables, columns and indexes. Never edit a released
 * migration; add the next one.
 */
export interface ColumnTypes {
  /** Ids: they break ties in keyset pagination, so they must compare bytewise. */
  id: 'text' | RawBuilder<unknown>;
  /** Epoch-ms timestamps, sizes and counters (64-bit on both dialects). */
  int: 'integer' | 'bigint';
  /** The increasing primary key that orders messages. */
  serialKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

export const sqliteColumnTypes: ColumnTypes = {
  id: 'text',
  int: 'integer',
  serialKey: (c) => c.primaryKey().autoIncrement(),
};

export const postgresColumnTypes: ColumnTypes = {
  // "C" compares bytewise, as SQLite's BINARY collation does, whatever the database's locale.
  id: sql`text collate "C"`,
  int: 'bigint',
  serialKey: (c) => c.primaryKey().generatedAlwaysAsIdentity(),
};

function migrations(t: ColumnTypes): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('conversations')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('agent_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('manager_id', 'text')
          .addColumn('upstream_id', 'text')
          .addColumn('created_at', t.int, (c) => c.notNull())
          .addColumn('updated_at', t.int, (c) => c.notNull())
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
          .addColumn('seq', t.int, (c) => t.serialKey(c))
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('conversation_id', t.id, (c) =>
            c.notNull().references('conversations.id').onDelete('cascade'),
          )
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('file_ids', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('usage', 'text')
          .addColumn('citations', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('last_event_id', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', t.int, (c) => c.notNull())
          .addColumn('updated_at', t.int, (c) => c.notNull())
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
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('size', t.int, (c) => c.notNull())
          .addColumn('mime_type', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('origin_kind', 'text', (c) => c.notNull())
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('upstream_ids', 'text', (c) => c.notNull())
          .addColumn('created_at', t.int, (c) => c.notNull())
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
    // Most conversations have no manager: indexing only those that do saves every new
    // conversation an index write. A query for `manager_id = ?` implies `manager_id IS NOT
    // NULL`, so SQLite and PostgreSQL both still use the index for it.
    '0003_conversations_manager_partial': {
      async up(db: Kysely<unknown>) {
        await db.schema.dropIndex('conversations_manager_updated').execute();
        await db.schema
          .createIndex('conversations_manager_updated')
          .on('conversations')
          .columns(['manager_id', 'updated_at desc', 'id desc'])
          .where(sql.ref('manager_id'), 'is not', null)
          .execute();
      },
    },
    // Extracted text may be megabytes per file. In the files row it made every listing read it
    // (SQLite walks a row's overflow pages to reach the columns stored after it); apart, only
    // the calls that need the text read it.
    '0004_file_texts': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('file_texts')
          .addColumn('file_id', t.id, (c) => c.primaryKey().references('files.id').onDelete('cascade'))
          .addColumn('text', 'text', (c) => c.notNull())
          .execute();
        await sql`insert into file_texts (file_id, text) select id, text from files where text <> ''`.execute(db);
        await db.schema.alterTable('files').dropColumn('text').execute();
      },
    },
  };
}

export function migrationProvider(types: ColumnTypes): MigrationProvider {
  const list = migrations(types);
  return { getMigrations: () => Promise.resolve(list) };
}
