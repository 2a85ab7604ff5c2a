/**
 * A damaged or vanished SQLite database is noticed (issue 11, item 8): start-up runs
 * `PRAGMA quick_check` and refuses a file with damaged pages, saying so (it used to start and
 * answer with rows silently missing); /readyz reports the store unreachable once the database
 * file is deleted or replaced under the running server (SQLite would go on writing to the
 * unlinked file).
 */
import { copyFileSync, openSync, closeSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '@colloquy/store';
import { makeServerDirs, startServerProcess } from '@colloquy/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirOf, type Json } from './support/http-helpers.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

describe('a database with damaged pages', () => {
  const dirs = makeServerDirs('colloquy-damaged-');
  afterAll(() => dirs.remove());

  it('stops start-up with a message naming the file and the damage', async () => {
    const file = join(dirs.dataDir, 'colloquy.sqlite');
    const store = await openSqliteStore({ filename: file });
    for (let i = 0; i < 200; i++) {
      const at = 1_000 + i;
      const m = (id: string, role: 'user' | 'assistant') => ({
        id, userId: 'u', conversationId: `c${i}`, role, content: `message ${id} `.repeat(20), fileIds: [], status: 'complete' as const,
        usage: null, citations: [], error: null, lastEventId: 0, createdAt: at, updatedAt: at,
      });
      await store.beginTurn({
        conversation: { create: { id: `c${i}`, userId: 'u', agentId: 'local', name: `conversation ${i}`, managerId: null, upstreamId: null, createdAt: at, updatedAt: at } },
        userMessage: m(`m${i}-q`, 'user'),
        assistantMessage: m(`m${i}-a`, 'assistant'),
      });
    }
    await store.close();
    // Overwrite one page in the middle of the file (the header page stays intact).
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 6);
    closeSync(fd);

    const started = startServerProcess({ DATA_DIR: dirs.dataDir, UPLOAD_ROOTS: dirs.inbox });
    const failure = await started.then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/server exited with 1 before listening/);
    expect(failure).toContain(`SQLite database ${file} is damaged (PRAGMA quick_check:`);
    expect(failure).toMatch(/Restore it from a backup/);
  }, 60_000);
});

describe('the database file deleted or replaced while the server runs', () => {
  let server: TestServer;
  afterAll(() => server?.dispose());

  const readiness = async () => {
    const res = await fetch(`${server.url}/readyz`);
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('/readyz turns 503 (store unreachable) when the file is replaced, and when it is deleted', async () => {
    server = await startTestServer();
    const file = join(dataDirOf(server), 'colloquy.sqlite');
    expect(await readiness()).toMatchObject({ status: 200, body: { status: 'ok', store: 'ok' } });

    // Replaced: another file (here a copy) renamed over it.
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);
    expect(await readiness()).toMatchObject({ status: 503, body: { status: 'unavailable', store: 'unreachable' } });

    unlinkSync(file);
    expect(await readiness()).toMatchObject({ status: 503, body: { status: 'unavailable', store: 'unreachable' } });
    // Liveness is another matter: the process still serves HTTP.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
