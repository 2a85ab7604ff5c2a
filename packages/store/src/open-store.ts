import { openPostgresStore } from './postgres/open-postgres-store.ts';
import { openSqliteStore } from './sqlite/open-sqlite-store.ts';
import { SQLITE_DRIVERS, type SqliteDriverChoice } from './sqlite/sqlite-driver.ts';
import type { Store, StoreDriver } from './types.ts';

/** Every value of Store.driver. */
export const STORE_DRIVERS = [...SQLITE_DRIVERS, 'pg'] as const satisfies readonly StoreDriver[];

export interface OpenStoreOptions {
  /** SQLITE_DRIVER for a SQLite URL (ignored for PostgreSQL); `auto` by default. */
  sqliteDriver?: SqliteDriverChoice;
  /** Told, under `auto`, why better-sqlite3 was not taken (libsql was). */
  onSqliteFallback?: (reason: string) => void;
}

/**
 * Opens the store a DATABASE_URL names: `postgres://` / `postgresql://` select PostgreSQL;
 * `sqlite:<path>` / `file:<path>` / a bare path select SQLite.
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return openPostgresStore({ connectionString: databaseUrl });
  }
  const filename = databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  return openSqliteStore({ filename, driver: options.sqliteDriver, onFallback: options.onSqliteFallback });
}
