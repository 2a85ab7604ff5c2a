import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import type { Store } from '../types.ts';
import { migrationProvider, sqliteColumnTypes } from '../migrations.ts';
import { checkIntegrity, sameFileCheck } from './integrity.ts';
import type { Database } from '../schema.ts';
import { loadSqliteDriver, type SqliteConnection, type SqliteDriverChoice } from './sqlite-driver.ts';

export interface SqliteStoreOptions {
  /** Path of the database file; ':memory:' for a throwaway database. */
  filename: string;
  /** SQLITE_DRIVER: `auto` (default) takes better-sqlite3 when its native binding loads, else libsql. */
  driver?: SqliteDriverChoice;
  /** Told, under `auto`, why better-sqlite3 was not taken. */
  onFallback?: (reason: string) => void;
}

/** Opens (creating if needed) a SQLite database file, migrates it and returns the Store. */
export async function openSqliteStore({ filename, driver: choice = 'auto', onFallback }: SqliteStoreOptions): Promise<Store> {
  const driver = await loadSqliteDriver(choice);
  if (driver.fallbackReason !== undefined) onFallback?.(driver.fallbackReason);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = driver.open(filename);

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await checkIntegrity(db, filename);
  const { error, results } = await new Migrator({ db, provider: migrationProvider(sqliteColumnTypes) }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`SQLite migration failed: ${reason}`);
  }
  return createKyselyStore(db, { kind: 'sqlite', driver: driver.name }, () => db.destroy(), sameFileCheck(filename), true);
}

/** Distinct SQL texts kept prepared; the store issues a few dozen. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing (parsing and planning) costs
 * about as much as running these small statements: a conversation turn runs the same handful of
 * statements every time. Statements are kept by SQL text, least recently used dropped first.
 * `iterate` (streaming) gets a fresh statement, since a statement is busy while iterated.
 */
function withStatementCache(sqlite: SqliteConnection): SqliteDatabase {
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
          iterate: (parameters) => sqlite.prepare(sql).iterate(parameters),
        };
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, cached);
      return cached;
    },
  };
}

