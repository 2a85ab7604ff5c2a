import { openPostgresStore } from './postgres/open-postgres-store.ts';
import { openSqliteStore } from './sqlite/open-sqlite-store.ts';
import type { Store } from './types.ts';

/**
 * Opens the store a DATABASE_URL names: `postgres://` / `postgresql://` select PostgreSQL;
 * `sqlite:<path>` / `file:<path>` / a bare path select SQLite.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return openPostgresStore({ connectionString: databaseUrl });
  }
  const filename = databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  return openSqliteStore({ filename });
}
