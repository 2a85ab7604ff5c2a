/**
 * Upload by path (DESIGN.md "Security rules"): only regular files inside UPLOAD_ROOTS, after
 * resolving symlinks; `..`, absolute paths outside the roots, devices, directories and oversized
 * files are refused; a batch is all-or-nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { countBlobs, dataDirOf, expectErrorBody, storedFiles, uploadPaths, type Json } from './support/http-helpers.ts';

const BAD_PATHS = '请提供有效的文件路径列表';
const MAX_FILE_BYTES = 1024;

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/**
 * If a server ever opened the FIFO without O_NONBLOCK it would block in open(2) until a writer
 * appears; opening it for writing (non-blocking) releases such a reader so nothing can hang.
 */
function releaseFifoReaders(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader is waiting, which is the expected case.
  }
}

/** Records and blobs stored so far, to prove a refused batch stored nothing. */
async function snapshot(server: TestServer) {
  const files = await storedFiles(server.url);
  return { ids: files.map((f: Json) => f.id).sort(), blobs: countBlobs(dataDirOf(server)) };
}

describe('upload by path: refused paths', () => {
  let server: TestServer;
  let outside: string;
  let fresh = 0;
  /** A valid file with content never uploaded before, so storing it would add a blob. */
  const freshValidFile = () => {
    fresh += 1;
    const name = `fresh-${fresh}.txt`;
    server.writeInbox(name, `Fresh valid content number ${fresh} (${Date.now()}).`);
    return name;
  };

  beforeAll(async () => {
    server = await startTestServer({ MAX_FILE_BYTES: `${MAX_FILE_BYTES}b` });
    outside = mkdtempSync(join(tmpdir(), 'colloquy-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'A secret outside the upload roots.');
    mkdirSync(join(outside, 'dir'));
    writeFileSync(join(outside, 'dir', 'secret.txt'), 'Another secret.');

    server.writeInbox('valid.txt', 'A perfectly valid file.');
    server.writeInbox('big.txt', 'x'.repeat(MAX_FILE_BYTES + 1));
    mkdirSync(join(server.inbox, 'a-directory'));
    execFileSync('mkfifo', [join(server.inbox, 'a-fifo')]);
    symlinkSync(join(outside, 'secret.txt'), join(server.inbox, 'link-to-outside'));
    symlinkSync(join(outside, 'dir'), join(server.inbox, 'dirlink-to-outside'));
    symlinkSync('/dev/null', join(server.inbox, 'link-to-dev-null'));
    symlinkSync(join(server.inbox, 'loop-b'), join(server.inbox, 'loop-a'));
    symlinkSync(join(server.inbox, 'loop-a'), join(server.inbox, 'loop-b'));
  });
  afterAll(async () => {
    releaseFifoReaders(join(server.inbox, 'a-fifo'));
    await server.dispose();
    rmSync(outside, { recursive: true, force: true });
  });

  /** Refused paths: 400, except a file over the size limit, which is 413 (a limit, not a bad path). */
  const cases: [string, () => string, number?][] = [
    ['a leading ..', () => '../x'],
    ['.. that climbs out of the root', () => 'a/../../etc/passwd'],
    ['.. alone', () => '..'],
    ['.. that would stay inside the root', () => 'a-directory/../valid.txt'],
    ['a backslash ..', () => '..\\valid.txt'],
    ['an absolute path outside the roots', () => '/etc/hostname'],
    ['an absolute path to a file in another temp dir', () => join(outside, 'secret.txt')],
    ['an absolute path to the server database', () => join(dataDirOf(server), 'colloquy.sqlite')],
    ['the upload root itself', () => server.inbox],
    ['. (the root directory)', () => '.'],
    ['a symlink inside the inbox pointing outside', () => 'link-to-outside'],
    ['a path through a symlinked directory pointing outside', () => 'dirlink-to-outside/secret.txt'],
    ['a directory', () => 'a-directory'],
    ['a missing file', () => 'no-such-file.txt'],
    ['a symlink loop', () => 'loop-a'],
    [`a file over MAX_FILE_BYTES (${MAX_FILE_BYTES + 1} bytes)`, () => 'big.txt', 413],
    ['/dev/null', () => '/dev/null'],
    ['a symlink to /dev/null', () => 'link-to-dev-null'],
    ['a FIFO', () => 'a-fifo'],
    ['a path with a NUL byte', () => 'valid.txt\u0000.png'],
  ];

  it.each(cases)('refuses %s with 400 (413 when over the size limit) and 请提供有效的文件路径列表', async (_name, badPath, status = 400) => {
    const before = await snapshot(server);
    const res = await uploadPaths(server.url, [badPath()]);
    expectErrorBody(res, status, BAD_PATHS);
    expect(await snapshot(server)).toEqual(before);
  });

  it.each(cases)('stores nothing from a batch mixing a valid file with %s', async (_name, badPath, status = 400) => {
    const before = await snapshot(server);
    for (const batch of [
      [freshValidFile(), badPath()],
      [badPath(), freshValidFile()],
      [freshValidFile(), badPath(), freshValidFile()],
    ]) {
      const res = await uploadPaths(server.url, batch);
      expectErrorBody(res, status, BAD_PATHS);
      expect(await snapshot(server)).toEqual(before);
    }
    // The valid files alone are fine, so it was the bad path that stopped the batch.
    const ok = await uploadPaths(server.url, [freshValidFile()]);
    expect(ok.status, ok.text).toBe(200);
    const after = await snapshot(server);
    expect(after.ids).toHaveLength(before.ids.length + 1);
    expect(after.blobs).toBe(before.blobs + 1);
  });

  it('gives every refused path one answer, whatever the reason and whether the file exists (issue 11)', async () => {
    const refused = [
      // (A NUL byte is malformed input, refused by the schema before any path is looked at.)
      ...cases.filter(([name, , status]) => status === undefined && !name.includes('NUL')).map(([name, path]) => [name, path()] as const),
      ['a missing file outside the roots', join(outside, 'no-such-secret.txt')],
      ['a missing directory outside the roots', join(outside, 'no-such-dir', 'x.txt')],
    ];
    const answers = new Map<string, string[]>();
    for (const [name, path] of refused) {
      const res = await uploadPaths(server.url, [path]);
      const body = res.body as Json;
      const answer = JSON.stringify({ status: res.status, message: body.message, error: String(body.error).split(path).join('<path>') });
      answers.set(answer, [...(answers.get(answer) ?? []), name]);
    }
    expect([...answers.keys()], JSON.stringify(Object.fromEntries(answers), null, 1)).toEqual([
      JSON.stringify({ status: 400, message: BAD_PATHS, error: 'Not a readable file inside the upload roots: <path>' }),
    ]);
  });

  it('refuses a batch over MAX_FILES_PER_BATCH (default 20) with 413 and stores none of it', async () => {
    const before = await snapshot(server);
    const batch = Array.from({ length: 21 }, () => freshValidFile());
    const res = await uploadPaths(server.url, batch);
    expectErrorBody(res, 413, BAD_PATHS);
    expect(await snapshot(server)).toEqual(before);
  });

  it('still serves the allowed file after all the refusals', async () => {
    const res = await uploadPaths(server.url, ['valid.txt']);
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).response[0]).toMatchObject({ name: 'valid.txt', sha256: sha256('A perfectly valid file.') });
  });
});

describe('upload by path: devices inside an upload root', () => {
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'colloquy-devroot-'));
    writeFileSync(join(root, 'valid.txt'), 'Valid next to the devices.');
    execFileSync('mkfifo', [join(root, 'fifo')]);
    // /dev as a (second) root: devices pass the roots check, so only the regular-file check stops them.
    server = await startTestServer({ UPLOAD_ROOTS: `${root}:/dev` });
  });
  afterAll(async () => {
    releaseFifoReaders(join(root, 'fifo'));
    await server.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it.each([
    ['/dev/null (a character device)', '/dev/null'],
    ['a FIFO in the first root', 'fifo'],
  ])('refuses %s, alone and in a batch', async (_name, path) => {
    const before = await snapshot(server);
    expectErrorBody(await uploadPaths(server.url, [path], { user: 'dev-user' }), 400, BAD_PATHS);
    expectErrorBody(await uploadPaths(server.url, ['valid.txt', path], { user: 'dev-user' }), 400, BAD_PATHS);
    expect(await snapshot(server)).toEqual(before);
  });
});

describe('upload by path: accepted paths', () => {
  let server: TestServer;
  let rootA: string;
  let rootB: string;
  const write = (root: string, name: string, content: string) => {
    writeFileSync(join(root, name), content);
    return join(root, name);
  };

  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), 'colloquy-roots-'));
    rootA = join(base, 'a');
    rootB = join(base, 'b');
    mkdirSync(join(rootA, 'nested', 'deeper'), { recursive: true });
    mkdirSync(rootB);
    server = await startTestServer({ UPLOAD_ROOTS: `${rootA}:${rootB}`, MAX_FILE_BYTES: `${MAX_FILE_BYTES}b` });
  });
  afterAll(async () => {
    await server.dispose();
    rmSync(join(rootA, '..'), { recursive: true, force: true });
  });

  it('accepts an absolute path inside the first or the second root', async () => {
    const inA = write(rootA, 'abs-a.txt', 'Absolute path in root A.');
    const inB = write(rootB, 'abs-b.txt', 'Absolute path in root B.');
    const res = await uploadPaths(server.url, [inA, inB]);
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).response).toEqual([
      expect.objectContaining({ name: 'abs-a.txt', path: inA, sha256: sha256('Absolute path in root A.') }),
      expect.objectContaining({ name: 'abs-b.txt', path: inB, sha256: sha256('Absolute path in root B.') }),
    ]);
  });

  it('resolves relative paths against the first root only', async () => {
    write(rootA, 'both.txt', 'The copy in root A.');
    write(rootB, 'both.txt', 'The copy in root B.');
    write(rootB, 'only-in-b.txt', 'Only root B has this.');
    writeFileSync(join(rootA, 'nested', 'deeper', 'n.txt'), 'Nested in root A.');

    const both = await uploadPaths(server.url, ['both.txt', 'nested/deeper/n.txt', './nested/deeper/n.txt']);
    expect(both.status, both.text).toBe(200);
    const records = (both.body as Json).response;
    expect(records[0]).toMatchObject({ path: 'both.txt', sha256: sha256('The copy in root A.') });
    expect(records[1]).toMatchObject({ name: 'n.txt', sha256: sha256('Nested in root A.') });
    expect(records[2]).toMatchObject({ name: 'n.txt', sha256: sha256('Nested in root A.') });

    const onlyB = await uploadPaths(server.url, ['only-in-b.txt']);
    expectErrorBody(onlyB, 400, BAD_PATHS);
    expect((onlyB.body as Json).error).toContain('only-in-b.txt');
  });

  it(`accepts a file of exactly MAX_FILE_BYTES (${MAX_FILE_BYTES} bytes)`, async () => {
    write(rootA, 'exact.txt', 'y'.repeat(MAX_FILE_BYTES));
    const res = await uploadPaths(server.url, ['exact.txt']);
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).response[0].size).toBe(MAX_FILE_BYTES);
  });

  it('stores the same content once (one blob) however many paths carry it', async () => {
    const content = `Shared content ${Date.now()}`;
    write(rootA, 'copy-1.txt', content);
    write(rootA, 'copy-2.txt', content);
    write(rootB, 'copy-3.txt', content);
    const blobsBefore = countBlobs(dataDirOf(server));

    const first = await uploadPaths(server.url, ['copy-1.txt']);
    expect(first.status, first.text).toBe(200);
    expect(countBlobs(dataDirOf(server))).toBe(blobsBefore + 1);

    const rest = await uploadPaths(server.url, ['copy-2.txt', join(rootB, 'copy-3.txt')]);
    expect(rest.status, rest.text).toBe(200);
    expect(countBlobs(dataDirOf(server))).toBe(blobsBefore + 1);
    const all = [...(first.body as Json).response, ...(rest.body as Json).response];
    expect(new Set(all.map((f: Json) => f.sha256))).toEqual(new Set([sha256(content)]));
    expect(new Set(all.map((f: Json) => f.id)).size).toBe(3);
  });

  it('returns the same record when the same path is uploaded again', async () => {
    write(rootA, 'again.txt', 'Uploaded twice.');
    const first = await uploadPaths(server.url, ['again.txt']);
    expect(first.status, first.text).toBe(200);
    const filesBefore = (await storedFiles(server.url)).length;
    const blobsBefore = countBlobs(dataDirOf(server));

    const second = await uploadPaths(server.url, ['again.txt']);
    expect(second.status, second.text).toBe(200);
    expect((second.body as Json).response[0].id).toBe((first.body as Json).response[0].id);
    expect((await storedFiles(server.url)).length).toBe(filesBefore);
    expect(countBlobs(dataDirOf(server))).toBe(blobsBefore);
  });

  it('returns one record for the same path listed twice in one batch', async () => {
    write(rootA, 'twice-in-batch.txt', 'Listed twice in one request.');
    const filesBefore = (await storedFiles(server.url)).length;
    const res = await uploadPaths(server.url, ['twice-in-batch.txt', 'twice-in-batch.txt']);
    expect(res.status, res.text).toBe(200);
    const [a, b] = (res.body as Json).response;
    expect(b.id).toBe(a.id);
    expect((await storedFiles(server.url)).length).toBe(filesBefore + 1);
  });

  it('returns one record for the same path uploaded by concurrent requests', async () => {
    write(rootA, 'concurrent.txt', 'Uploaded by three requests at once.');
    const filesBefore = (await storedFiles(server.url)).length;
    const results = await Promise.all([1, 2, 3].map(() => uploadPaths(server.url, ['concurrent.txt'])));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => (r.body as Json).response[0].id)).size).toBe(1);
    expect((await storedFiles(server.url)).length).toBe(filesBefore + 1);
  });

  it('accepts a symlink inside a root pointing to a file inside a root', async () => {
    write(rootA, 'target.txt', 'The symlink target.');
    symlinkSync(join(rootA, 'target.txt'), join(rootA, 'link-in-root'));
    write(rootB, 'target-b.txt', 'A target in the other root.');
    symlinkSync(join(rootB, 'target-b.txt'), join(rootA, 'link-to-root-b'));
    symlinkSync('nested', join(rootA, 'relative-dir-link'));
    writeFileSync(join(rootA, 'nested', 'via-dir-link.txt'), 'Reached through a relative directory link.');

    const res = await uploadPaths(server.url, ['link-in-root', 'link-to-root-b', 'relative-dir-link/via-dir-link.txt']);
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).response).toEqual([
      expect.objectContaining({ path: 'link-in-root', name: 'target.txt', sha256: sha256('The symlink target.') }),
      expect.objectContaining({ path: 'link-to-root-b', name: 'target-b.txt', sha256: sha256('A target in the other root.') }),
      expect.objectContaining({ name: 'via-dir-link.txt', sha256: sha256('Reached through a relative directory link.') }),
    ]);
  });
});
