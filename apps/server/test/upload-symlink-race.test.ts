/**
 * Upload by path against a directory swapped for a symlink while the request runs (issue 11,
 * item 1). A child process swaps a directory inside the upload root with a symlink to a
 * directory outside it, over and over, while requests upload a file through that directory.
 * Resolving the path and opening it are two steps; whatever the interleaving, no byte from
 * outside the roots may ever be stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDirOf, storedFiles, uploadPaths, type Json } from './support/http-helpers.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const RACE_MS = 4000;
const PARALLEL_REQUESTS = 4;

/**
 * Swaps `box` (a directory) and `decoy` (a symlink to a directory outside the root) in a tight
 * loop: box → parked, decoy → box, box → decoy, parked → box. Between the second and third
 * rename `box` IS the symlink, so a path resolved a moment earlier through the real directory
 * now leads outside. (Node has no renameat2(RENAME_EXCHANGE); four renames give the same
 * states, plus a moment where `box` does not exist at all.) Prints the number of swaps on exit.
 */
const SWAPPER = `
const { renameSync } = require('node:fs');
const [box, decoy, parked] = process.argv.slice(1);
let swaps = 0;
let running = true;
process.on('SIGTERM', () => { running = false; });
const loop = () => {
  for (let i = 0; i < 200 && running; i++) {
    renameSync(box, parked);
    renameSync(decoy, box);
    renameSync(box, decoy);
    renameSync(parked, box);
    swaps += 1;
  }
  if (running) setImmediate(loop);
  else { process.stdout.write(String(swaps)); process.exit(0); }
};
loop();
`;

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Every blob's content (DATA_DIR/blobs/ab/<sha256>). */
function blobContents(dataDir: string): Buffer[] {
  const root = join(dataDir, 'blobs');
  const out: Buffer[] = [];
  for (const shard of readdirSync(root, { withFileTypes: true })) {
    if (!shard.isDirectory() || shard.name.startsWith('.')) continue;
    for (const name of readdirSync(join(root, shard.name))) out.push(readFileSync(join(root, shard.name, name)));
  }
  return out;
}

describe('upload by path while a parent directory is swapped for a symlink', () => {
  let server: TestServer;
  let outside: string;
  let swapper: ChildProcess | undefined;
  const secret = `OUTSIDE-THE-ROOTS ${randomUUID()}: the launch codes are 0000.`;
  const inside = 'Inside the root: the weekly report is due on Friday.';

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
    outside = mkdtempSync(join(tmpdir(), 'colloquy-race-outside-'));
    writeFileSync(join(outside, 'report.txt'), secret);
    mkdirSync(join(server.inbox, 'box'));
    writeFileSync(join(server.inbox, 'box', 'report.txt'), inside);
    symlinkSync(outside, join(server.inbox, 'decoy'));
  });
  afterAll(async () => {
    swapper?.kill('SIGKILL');
    await server?.dispose();
    rmSync(outside, { recursive: true, force: true });
  });

  it(`stores no byte from outside the roots in ${RACE_MS} ms of swapping`, async () => {
    const child = spawn(process.execPath, ['-e', SWAPPER, join(server.inbox, 'box'), join(server.inbox, 'decoy'), join(server.inbox, 'parked')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    swapper = child;
    let swapOutput = '';
    child.stdout.on('data', (c: Buffer) => (swapOutput += c.toString()));
    child.stderr.on('data', (c: Buffer) => (swapOutput += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    const statuses = new Map<number, number>();
    /** Answers that returned the outside file's record (its hash), and the first of them. */
    const leaks = { count: 0, first: '' };
    const end = Date.now() + RACE_MS;
    await Promise.all(
      Array.from({ length: PARALLEL_REQUESTS }, async () => {
        while (Date.now() < end) {
          const res = await uploadPaths(server.url, ['box/report.txt']);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.text.includes(sha256(secret))) {
            leaks.count += 1;
            leaks.first ||= res.text.slice(0, 300);
          }
        }
      }),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const swaps = Number(swapOutput);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.info(`symlink race: ${swaps} swaps, ${total} uploads: ${JSON.stringify(Object.fromEntries(statuses))}`);

    // The race ran: the directory was swapped many times while uploads went on.
    expect(swaps, swapOutput).toBeGreaterThan(100);
    expect(total).toBeGreaterThan(50);
    // Only successes and refusals (the path may name a symlink or nothing at that moment).
    expect([...statuses.keys()].every((s) => s === 200 || s === 400), JSON.stringify([...statuses])).toBe(true);
    // Nothing from outside: not in an answer, not as a record, not in any blob.
    expect(leaks.count, leaks.first).toBe(0);
    const records = await storedFiles(server.url);
    expect(records.map((f: Json) => f.sha256)).not.toContain(sha256(secret));
    for (const blob of blobContents(dataDirOf(server))) expect(blob.toString('utf8')).not.toContain('OUTSIDE-THE-ROOTS');
    // What was stored is the file inside the root.
    expect(records.length).toBeGreaterThan(0);
    for (const f of records) expect(f.sha256).toBe(sha256(inside));
  }, 60_000);
});
