/**
 * Listing files never reads their extracted text (issue 11, item 4). Texts may be megabytes
 * each; `files.list` and `files.get` return only what they show (`hasText`), so their cost must
 * not grow with the texts stored. Measured without timing: the bytes the server process reads
 * (`rchar` in /proc/<pid>/io counts every read(2)/pread(2), SQLite's page reads included) while
 * it answers the lists. Reading the texts would be at least their size per list.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from './support/http-helpers.ts';

const MB = 1024 * 1024;
const FILES = 4;
const FILE_BYTES = 8 * MB;
const LISTS = 5;

/** Bytes the process has read through read-like system calls so far. */
function bytesReadBy(pid: number): number {
  return Number(/^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

async function trpcQuery(url: string, path: string, input: unknown): Promise<Json> {
  const res = await fetch(`${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  const body = (await res.json()) as Json;
  expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
  return body.result.data;
}

describe('files.list with large texts stored', () => {
  let dirs: TempServerDirs;
  let server: ServerProcess;
  beforeAll(async () => {
    dirs = makeServerDirs('colloquy-list-io-');
    server = await startServerProcess({
      DATA_DIR: dirs.dataDir,
      UPLOAD_ROOTS: dirs.inbox,
      MAX_FILE_BYTES: '8mb',
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    });
    for (let i = 0; i < FILES; i++) {
      const line = `Manual ${i}: check the pressure valve, then log the reading in the blue binder.\n`;
      writeFileSync(join(dirs.inbox, `manual-${i}.txt`), line.repeat(Math.floor((FILE_BYTES - 1024) / line.length)));
      const res = await fetch(`${server.url}/upload_files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file_paths: [`manual-${i}.txt`] }),
      });
      expect(res.status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    dirs?.remove();
  });

  it(`${LISTS} lists and gets read well under a megabyte, not the ${FILES} × 8 MB of text`, async () => {
    const pid = server.child.pid!;
    // Warm: the first query of a kind prepares its statements.
    const warm = await trpcQuery(server.url, 'files.list', { limit: 100 });
    expect(warm.items).toHaveLength(FILES);
    expect(warm.items.every((f: Json) => f.hasText === true && f.size > 7.9 * MB)).toBe(true);

    const before = bytesReadBy(pid);
    const started = performance.now();
    for (let i = 0; i < LISTS; i++) {
      const page = await trpcQuery(server.url, 'files.list', { limit: 100 });
      expect(page.items).toHaveLength(FILES);
      const one = await trpcQuery(server.url, 'files.get', { id: page.items[i % FILES].id });
      expect(one).toMatchObject({ hasText: true });
    }
    const ms = performance.now() - started;
    const read = bytesReadBy(pid) - before;
    console.info(`${LISTS} × (files.list + files.get) with ${FILES} × 8 MB texts stored: ${(read / 1024).toFixed(0)} KB read, ${ms.toFixed(0)} ms`);
    expect(read).toBeLessThan(1 * MB);
  });
});
