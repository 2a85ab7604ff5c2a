import Libsql from 'libsql';
import { describe, expect, it } from 'vitest';
import { loadSqliteDriver, SqliteDriverError, type SqliteConnection, type SqliteDriverName } from '../src/index.ts';

type Constructor = new (filename: string) => SqliteConnection;

// better-sqlite3 is optional: where its build failed these tests still run (the ones that need
// it built are skipped; CI builds it, and the store suite fails there without it).
const BetterSqlite3 = await import('better-sqlite3').then((m) => m.default, () => undefined);
const betterSqlite3Loads = await loadSqliteDriver('better-sqlite3').then(() => true, () => false);

/** The real modules; better-sqlite3 optionally as on a machine where its build failed (no binding file). */
function machine({ betterSqlite3Built }: { betterSqlite3Built: boolean }) {
  return async (name: SqliteDriverName): Promise<Constructor> => {
    if (name === 'libsql') return Libsql as unknown as Constructor;
    if (!BetterSqlite3) return (await import('better-sqlite3')).default;
    if (betterSqlite3Built) return BetterSqlite3;
    const Installed = BetterSqlite3;
    return class UnbuiltBetterSqlite3 extends Installed {
      constructor(filename: string) {
        super(filename, { nativeBinding: '/nonexistent/build/Release/better_sqlite3.node' });
      }
    };
  };
}

describe('SQLITE_DRIVER selection', () => {
  it.skipIf(!betterSqlite3Loads)('auto takes better-sqlite3 when its binding loads', async () => {
    const driver = await loadSqliteDriver('auto', machine({ betterSqlite3Built: true }));
    expect(driver.name).toBe('better-sqlite3');
    expect(driver.fallbackReason).toBeUndefined();
  });

  it('auto falls back to libsql when better-sqlite3 was not built, and says why', async () => {
    const driver = await loadSqliteDriver('auto', machine({ betterSqlite3Built: false }));
    expect(driver.name).toBe('libsql');
    expect(driver.fallbackReason).toMatch(BetterSqlite3 ? /nonexistent/ : /better-sqlite3/);
    expect(driver.fallbackReason).not.toContain('\n');
    const sqlite = driver.open(':memory:');
    expect(sqlite.prepare('select 1 as one').all([])).toEqual([{ one: 1 }]);
    sqlite.close();
  });

  it('auto falls back to libsql when better-sqlite3 is not installed at all', async () => {
    const driver = await loadSqliteDriver('auto', async (name) => {
      if (name === 'libsql') return Libsql as unknown as new (filename: string) => SqliteConnection;
      return (await import('better-sqlite3-not-installed' as string)).default;
    });
    expect(driver.name).toBe('libsql');
    expect(driver.fallbackReason).toMatch(/better-sqlite3-not-installed/);
  });

  it('a named driver that cannot load stops start-up with a message saying what to do', async () => {
    const attempt = loadSqliteDriver('better-sqlite3', machine({ betterSqlite3Built: false }));
    await expect(attempt).rejects.toBeInstanceOf(SqliteDriverError);
    await expect(attempt).rejects.toThrow(/SQLITE_DRIVER=better-sqlite3, but better-sqlite3 cannot be loaded: .+SQLITE_DRIVER=auto/s);
  });

  it.skipIf(!betterSqlite3Loads)('a named driver is taken even when the other would load', async () => {
    expect((await loadSqliteDriver('libsql', machine({ betterSqlite3Built: true }))).name).toBe('libsql');
    expect((await loadSqliteDriver('better-sqlite3', machine({ betterSqlite3Built: true }))).name).toBe('better-sqlite3');
  });
});
