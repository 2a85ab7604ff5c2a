import { openSqliteStore } from './sqlite/open-sqlite-store.ts';
import type { Store } from './types.ts';

/**
 * Opens the store a DATABASE_URL names: `sqlite:<path>` / `file:<path>` / a bare path select
 * SQLite; `postgres://` is reserved for the PostgreSQL implementation.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('PostgreSQL storage is not available in this build yet; use a SQLite path in DATABASE_URL');
  }
  const filename = databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  return openSqliteStore({ filename });
}
