import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import type { Store } from '../types.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from '../schema.ts';

export interface SqliteStoreOptions {
  /** Path of the database file; ':memory:' for a throwaway database. */
  filename: string;
}

/** Opens (creating if needed) a SQLite database file, migrates it and returns the Store. */
export async function openSqliteStore({ filename }: SqliteStoreOptions): Promise<Store> {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new BetterSqlite3(filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
  // last commits, which is the usual trade-off for a gateway's write rate.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`SQLite migration failed: ${reason}`);
  }
  return createKyselyStore(db, 'sqlite', () => db.destroy());
}
