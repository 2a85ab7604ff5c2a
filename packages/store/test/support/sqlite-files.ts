import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadSqliteDriver, type SqliteDriverName } from '../../src/index.ts';

/** A temp directory removed after the file's tests; each call of the result names a new database file in it. */
export function freshSqliteFiles(prefix: string): () => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return () => join(dir, `db-${n++}.sqlite`);
}

/** Why a driver's native binding does not load here (better-sqlite3 may have failed to build), or undefined. */
export async function sqliteDriverLoadError(driver: SqliteDriverName): Promise<string | undefined> {
  try {
    await loadSqliteDriver(driver);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
