import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requiredInCi } from '@colloquy/testing';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { loadSqliteDriver, openSqliteStore, openStore, SQLITE_DRIVERS } from '../src/index.ts';
import { sqliteColumnTypes } from '../src/migrations.ts';
import { runMigrationContract } from './migration-contract.ts';
import { runStoreContract } from './store-contract.ts';
import { sqliteDriverLoadError as loads } from './support/sqlite-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'colloquy-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(dir, `db-${n++}.sqlite`);



for (const driver of SQLITE_DRIVERS) {
  // CI builds better-sqlite3 (and libsql always installs): a driver missing there is a failure.
  describe.runIf(requiredInCi(`store: SQLite contract on ${driver}`, await loads(driver)))(`SQLite store on ${driver}`, () => {
    runStoreContract(`sqlite file (${driver})`, () => openSqliteStore({ filename: freshFile(), driver }));

    runMigrationContract(`sqlite (${driver})`, async () => {
      const filename = freshFile();
      const sqlite = (await loadSqliteDriver(driver)).open(filename);
      const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite as unknown as SqliteDatabase }) });
      return { db, types: sqliteColumnTypes, close: () => db.destroy(), openStore: () => openSqliteStore({ filename, driver }) };
    });

    it('names its driver', async () => {
      const store = await openSqliteStore({ filename: freshFile(), driver });
      expect([store.kind, store.driver]).toEqual(['sqlite', driver]);
      await store.close();
    });

    it('keeps data across reopen and applies migrations once', async () => {
      const filename = freshFile();
      const a = await openSqliteStore({ filename, driver });
      await a.conversations.create({
        id: 'x', userId: 'u', agentId: 'local', name: 'n', managerId: null, upstreamId: null, createdAt: 1, updatedAt: 1,
      });
      await a.close();
      const b = await openSqliteStore({ filename, driver });
      expect((await b.conversations.get('u', 'x'))?.name).toBe('n');
      await b.close();
    });

    it('opens connections with WAL, foreign keys, synchronous NORMAL and a 5 s busy timeout', async () => {
      const sqlite = (await loadSqliteDriver(driver)).open(freshFile());
      try {
        expect(sqlite.pragma('journal_mode')).toEqual([{ journal_mode: 'wal' }]);
        expect(sqlite.pragma('foreign_keys')).toEqual([{ foreign_keys: 1 }]);
        expect(sqlite.pragma('synchronous')).toEqual([{ synchronous: 1 }]);
        expect(sqlite.pragma('busy_timeout')).toEqual([{ timeout: 5000 }]);
      } finally {
        sqlite.close();
      }
    });
  });
}

const bothLoad = (await loads('better-sqlite3')) === undefined && (await loads('libsql')) === undefined;

describe.skipIf(!bothLoad)('the two drivers share one file format', () => {
  it('a file written through better-sqlite3 is read and written through libsql, and back', async () => {
    const filename = freshFile();
    const conversation = (id: string, name: string) => ({
      id, userId: 'u', agentId: 'local', name, managerId: null, upstreamId: null, createdAt: 1, updatedAt: 1,
    });
    const first = await openSqliteStore({ filename, driver: 'better-sqlite3' });
    await first.conversations.create(conversation('a', 'by better-sqlite3'));
    await first.close();
    const second = await openSqliteStore({ filename, driver: 'libsql' });
    expect((await second.conversations.get('u', 'a'))?.name).toBe('by better-sqlite3');
    await second.conversations.create(conversation('b', 'by libsql'));
    await second.close();
    const third = await openSqliteStore({ filename, driver: 'better-sqlite3' });
    expect((await third.conversations.list({ userId: 'u', limit: 10 })).map((c) => c.name).sort()).toEqual(['by better-sqlite3', 'by libsql']);
    await third.close();
  });
});

describe('openStore with a SQLite URL', () => {
  it('passes SQLITE_DRIVER through', async () => {
    const store = await openStore(`sqlite:${freshFile()}`, { sqliteDriver: 'libsql' });
    expect(store.driver).toBe('libsql');
    await store.close();
  });
});

describe('damaged and vanished SQLite files', () => {
  it('refuses to open a file with damaged pages (PRAGMA quick_check), naming it', async () => {
    const filename = join(dir, 'damaged.sqlite');
    const a = await openSqliteStore({ filename });
    for (let i = 0; i < 100; i++) {
      await a.conversations.create({
        id: `c${i}`, userId: 'u', agentId: 'local', name: 'n'.repeat(200), managerId: null, upstreamId: null, createdAt: i, updatedAt: i,
      });
    }
    await a.close();
    const fd = openSync(filename, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 3);
    closeSync(fd);
    await expect(openSqliteStore({ filename })).rejects.toThrow(`SQLite database ${filename} is damaged (PRAGMA quick_check:`);
  });

  it('fails ping once its file is deleted', async () => {
    const filename = join(dir, 'deleted.sqlite');
    const store = await openSqliteStore({ filename });
    await store.ping();
    unlinkSync(filename);
    await expect(store.ping()).rejects.toThrow(`the database file ${filename} was deleted`);
    await store.close();
  });
});
