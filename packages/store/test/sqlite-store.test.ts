import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/index.ts';
import { runStoreContract } from './store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'colloquy-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract('sqlite file', () => openSqliteStore({ filename: join(dir, `db-${n++}.sqlite`) }));

describe('sqlite specifics', () => {
  it('keeps data across reopen and applies migrations once', async () => {
    const filename = join(dir, 'reopen.sqlite');
    const a = await openSqliteStore({ filename });
    await a.conversations.create({
      id: 'x', userId: 'u', agentId: 'local', name: 'n', managerId: null, upstreamId: null, createdAt: 1, updatedAt: 1,
    });
    await a.close();
    const b = await openSqliteStore({ filename });
    expect((await b.conversations.get('x'))?.name).toBe('n');
    await b.close();
  });
});
