import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider, type RawBuilder } from 'kysely';

/**
 * The schema's versioned migrations, one list for every dialect, applied in name order by
 * Kysely's Migrator. Only column types differ per dialect (`ColumnTypes`), so SQLite and
 * PostgreSQL always have the same tables, columns and indexes. Never edit a released
 * migration; add the next one.
 */
export interface ColumnTypes {
  /** For the few migrations that must reshape a table, which each dialect does its own way. */
  dialect: 'sqlite' | 'postgres';
  /** Ids: they break ties in keyset pagination, so they must compare bytewise. */
  id: 'text' | RawBuilder<unknown>;
  /** Epoch-ms timestamps, sizes and counters (64-bit on both dialects). */
  int: 'integer' | 'bigint';
  /** The increasing primary key that orders messages. */
  serialKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Raw bytes (file contents). */
  bytes: 'blob' | 'bytea';
}

export const sqliteColumnTypes: ColumnTypes = {
  dialect: 'sqlite',
  id: 'text',
  int: 'integer',
  serialKey: (c) => c.primaryKey().autoIncrement(),
  bytes: 'blob',
};

export const postgresColumnTypes: ColumnTypes = {
  dialect: 'postgres',
  // "C" compares bytewise, as SQLite's BINARY collation does, whatever the database's locale.
  id: sql`text collate "C"`,
  int: 'bigint',
  serialKey: (c) => c.primaryKey().generatedAlwaysAsIdentity(),
  bytes: 'bytea',
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
        await atomically(db, t, async (trx) => {
          await trx.schema
            .createTable('file_texts')
            .addColumn('file_id', t.id, (c) => c.primaryKey().references('files.id').onDelete('cascade'))
            .addColumn('text', 'text', (c) => c.notNull())
            .execute();
          await sql`insert into file_texts (file_id, text) select id, text from files where text <> ''`.execute(trx);
          await trx.schema.alterTable('files').dropColumn('text').execute();
        });
      },
    },
    // Conversation ids are chosen by clients, so they are per user: the key of a conversation
    // is (user_id, id), and a message carries its conversation's user. (Global ids let a user
    // learn that another user's conversation exists — a 404 instead of a new conversation — and
    // claim ids another user would pick later.)
    '0005_conversations_per_user': {
      async up(db: Kysely<unknown>) {
        if (t.dialect === 'postgres') await conversationsPerUserPostgres(db);
        else await conversationsPerUserSqlite(db, t);
      },
    },
    // Several instances on one database: each renews a lease here, and a running turn records
    // its owner, so only the turns of an instance whose lease expired become `interrupted`.
    '0006_instances_and_turn_owner': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('instances')
          .addColumn('id', t.id, (c) => c.primaryKey())
          // Host + boot + pid namespace: instances with the same machine key can check each
          // other's pid for liveness (a killed process is noticed at once, not at lease expiry).
          .addColumn('machine', 'text', (c) => c.notNull())
          .addColumn('pid', t.int, (c) => c.notNull())
          .addColumn('started_at', t.int, (c) => c.notNull())
          .addColumn('expires_at', t.int, (c) => c.notNull())
          .execute();
        await db.schema.alterTable('messages').addColumn('owner_instance', 'text').execute();
      },
    },
    // File contents in the database, for instances that share no disk (PostgreSQL): one row per
    // chunk, so a file is written and read a chunk at a time, never whole in one value.
    '0007_blob_chunks': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('blob_chunks')
          .addColumn('sha256', t.id, (c) => c.notNull())
          .addColumn('seq', t.int, (c) => c.notNull())
          .addColumn('data', t.bytes, (c) => c.notNull())
          .addPrimaryKeyConstraint('blob_chunks_pk', ['sha256', 'seq'])
          .execute();
      },
    },
    // Dify's `inputs`: the app variables a conversation is started with, kept with it.
    '0008_conversation_inputs': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('conversations').addColumn('inputs', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      },
    },
    // A turn in a continued conversation needs the files attached earlier: indexing only the
    // messages that carry files lets it find them without reading the whole conversation.
    '0009_messages_with_files': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex('messages_with_files')
          .on('messages')
          .columns(['user_id', 'conversation_id', 'seq'])
          .where(sql<boolean>`file_ids <> '[]'`)
          .execute();
      },
    },
  };
}

/** PostgreSQL changes keys in place (in the migration's transaction). */
async function conversationsPerUserPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages add column user_id text`.execute(db);
  await sql`update messages set user_id = c.user_id from conversations c where c.id = messages.conversation_id`.execute(db);
  await sql`alter table messages alter column user_id set not null`.execute(db);
  // The constraints' names are PostgreSQL's defaults; looked up rather than assumed.
  const constraint = async (table: string, type: 'f' | 'p') =>
    (await sql<{ name: string }>`select conname as name from pg_constraint where conrelid = ${table}::regclass and contype = ${type}`.execute(db))
      .rows[0]?.name;
  const fk = await constraint('messages', 'f');
  if (fk) await sql`alter table messages drop constraint ${sql.id(fk)}`.execute(db);
  const pk = await constraint('conversations', 'p');
  if (pk) await sql`alter table conversations drop constraint ${sql.id(pk)}`.execute(db);
  await sql`alter table conversations add constraint conversations_pkey primary key (user_id, id)`.execute(db);
  await sql`alter table messages add constraint messages_conversation_fkey foreign key (user_id, conversation_id)
    references conversations (user_id, id) on delete cascade`.execute(db);
  await db.schema.dropIndex('messages_conversation_seq').execute();
  await db.schema.dropIndex('conversations_updated').execute();
  await createPerUserIndexes(db, { conversations: false, messages: false });
}

/**
 * SQLite cannot change a primary or foreign key: both tables are rebuilt (renamed away, created
 * anew, copied, dropped), in one transaction.
 */
async function conversationsPerUserSqlite(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await atomically(db, t, async (trx) => {
    await sql`alter table conversations rename to conversations_0004`.execute(trx);
    await trx.schema
      .createTable('conversations')
      .addColumn('id', t.id, (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('manager_id', 'text')
      .addColumn('upstream_id', 'text')
      .addColumn('created_at', t.int, (c) => c.notNull())
      .addColumn('updated_at', t.int, (c) => c.notNull())
      .addPrimaryKeyConstraint('conversations_pkey', ['user_id', 'id'])
      .execute();
    await sql`insert into conversations (id, user_id, agent_id, name, manager_id, upstream_id, created_at, updated_at)
      select id, user_id, agent_id, name, manager_id, upstream_id, created_at, updated_at from conversations_0004`.execute(trx);

    await sql`alter table messages rename to messages_0004`.execute(trx);
    await trx.schema
      .createTable('messages')
      .addColumn('seq', t.int, (c) => t.serialKey(c))
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', t.id, (c) => c.notNull())
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
      .addForeignKeyConstraint('messages_conversation_fkey', ['user_id', 'conversation_id'], 'conversations', ['user_id', 'id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .execute();
    await sql`insert into messages (seq, id, user_id, conversation_id, role, content, file_ids, status, usage, citations, error,
        last_event_id, created_at, updated_at)
      select m.seq, m.id, c.user_id, m.conversation_id, m.role, m.content, m.file_ids, m.status, m.usage, m.citations, m.error,
        m.last_event_id, m.created_at, m.updated_at
      from messages_0004 m join conversations_0004 c on c.id = m.conversation_id`.execute(trx);
    await sql`drop table messages_0004`.execute(trx);
    await sql`drop table conversations_0004`.execute(trx);
    await createPerUserIndexes(trx, { conversations: true, messages: true });
    // Every message found its conversation (the copy joined on it): nothing dangles.
    const dangling = await sql`pragma foreign_key_check`.execute(trx);
    if (dangling.rows.length > 0) throw new Error(`0005: ${dangling.rows.length} rows violate a foreign key after the rebuild`);
  });
}

/**
 * The indexes of the per-user keys; `conversations` / `messages`: also those the table had
 * before (recreated after a rebuild, with their names).
 */
async function createPerUserIndexes(db: Kysely<unknown>, rebuilt: { conversations: boolean; messages: boolean }): Promise<void> {
  if (rebuilt.conversations) {
    await db.schema.createIndex('conversations_user_updated').on('conversations').columns(['user_id', 'updated_at desc', 'id desc']).execute();
    await db.schema
      .createIndex('conversations_manager_updated')
      .on('conversations')
      .columns(['manager_id', 'updated_at desc', 'id desc'])
      .where(sql.ref('manager_id'), 'is not', null)
      .execute();
  }
  if (rebuilt.messages) {
    await db.schema.createIndex('messages_streaming').on('messages').column('status').where(sql.ref('status'), '=', 'streaming').execute();
  }
  // Every user's conversations, newest first; ties between users' same ids broken by user.
  await db.schema.createIndex('conversations_updated').on('conversations').columns(['updated_at desc', 'id desc', 'user_id desc']).execute();
  // A conversation by its id alone (callers that see every user).
  await db.schema.createIndex('conversations_id').on('conversations').column('id').execute();
  await db.schema.createIndex('messages_conversation_seq').on('messages').columns(['user_id', 'conversation_id', 'seq']).execute();
}

/**
 * Runs a migration's steps all or none. Kysely's Migrator already runs each PostgreSQL migration
 * in a transaction; on SQLite it does not, so a migration that reshapes tables opens its own.
 */
async function atomically(db: Kysely<unknown>, t: ColumnTypes, steps: (db: Kysely<unknown>) => Promise<void>): Promise<void> {
  if (t.dialect === 'postgres') await steps(db);
  else await db.transaction().execute(steps);
}

export function migrationProvider(types: ColumnTypes): MigrationProvider {
  const list = migrations(types);
  return { getMigrations: () => Promise.resolve(list) };
}
