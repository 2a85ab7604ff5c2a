import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import type { Store } from '../types.ts';
import { migrationProvider, sqliteColumnTypes } from '../migrations.ts';
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

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider(sqliteColumnTypes) }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`SQLite migration failed: ${reason}`);
  }
  return createKyselyStore(db, 'sqlite', () => db.destroy());
}

/** Distinct SQL texts kept prepared; the store issues a few dozen. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing (parsing and planning) costs
 * about as much as running these small statements: a conversation turn runs the same handful of
 * statements every time. Statements are kept by SQL text, least recently used dropped first.
 * `iterate` (streaming) gets a fresh statement, since a statement is busy while iterated.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let cached = cache.get(sql);
      if (cached) {
        // Re-insert: Map order is the recency order.
        cache.delete(sql);
      } else {
        const stmt = sqlite.prepare(sql);
        cached = {
          reader: stmt.reader,
          all: (parameters) => stmt.all(parameters),
          run: (parameters) => stmt.run(parameters),
          iterate: (parameters) => sqlite.prepare(sql).iterate(parameters) as IterableIterator<unknown>,
        };
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, cached);
      return cached;
    },
  };
}

