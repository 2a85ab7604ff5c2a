import { CompiledQuery, Kysely, Migrator, PostgresDialect } from 'kysely';
import { Pool, TypeOverrides, types } from 'pg';
import { createKyselyStore } from '../kysely-store.ts';
import type { Database } from '../schema.ts';
import type { Store } from '../types.ts';
import { migrationProvider, postgresColumnTypes } from '../migrations.ts';

export interface PostgresStoreOptions {
  /** A `postgres://` / `postgresql://` URL. */
  connectionString: string;
  /**
   * Schema to keep the tables in (created if missing). Every connection's search_path is set
   * to it alone. Omit to use the server's default search_path (normally `public`).
   */
  schema?: string;
  /** Most connections the pool opens; 10 by default. */
  poolSize?: number;
}

/** Connects to PostgreSQL, migrates the schema and returns the Store. Closing ends the pool. */
export async function openPostgresStore({ connectionString, schema, poolSize = 10 }: PostgresStoreOptions): Promise<Store> {
  // pg returns int8 as a string because it can exceed 2^53. Every int8 here (epoch ms, sizes,
  // seq, count(*)) is far below that, and the Store speaks numbers. The override is per pool,
  // so other pg users in the process keep the default.
  const typeOverrides = new TypeOverrides();
  typeOverrides.setTypeParser(types.builtins.INT8, (value: string) => Number(value));

  const pool = new Pool({ connectionString, max: poolSize, types: typeOverrides });
  // An idle connection that breaks (server restart, network) is dropped by the pool and the
  // next query opens a new one; without a listener the 'error' event would crash the process.
  pool.on('error', (err) => {
    console.error(`[colloquy] idle PostgreSQL connection failed: ${err.message}`);
  });

  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      // Awaited by Kysely before the connection's first query, so nothing runs on the wrong
      // search_path. The schema alone (no public) means a table missing from it is an error
      // rather than a silent read or write of another schema's table.
      onCreateConnection:
        schema === undefined
          ? undefined
          : async (connection) => {
              await connection.executeQuery(CompiledQuery.raw(`set search_path to ${quoteIdent(schema)}`));
            },
    }),
  });

  try {
    // With migrationTableSchema the Migrator also creates the schema (tolerating a concurrent
    // creator) and keeps its bookkeeping tables there.
    // Without an explicit schema, pin the Migrator to the connection's current schema: its
    // table-existence check reads information_schema, which spans every schema of the database.
    const migrationTableSchema =
      schema ?? (await db.executeQuery<{ name: string | null }>(CompiledQuery.raw('select current_schema() as name'))).rows[0]?.name;
    const migrator = new Migrator({
      db,
      provider: migrationProvider(postgresColumnTypes),
      ...(migrationTableSchema ? { migrationTableSchema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
      throw new Error(`PostgreSQL migration failed: ${reason}`);
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return createKyselyStore(db, { kind: 'postgres', driver: 'pg' }, () => db.destroy());
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
