import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, createClient, TimeoutError, type ColloquyClient } from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

let fx: SdkFixture;
let client: ColloquyClient;

beforeAll(async () => {
  fx = await startSdkFixture({ MAX_FILE_BYTES: '256kb' });
  client = createClient({ baseUrl: fx.server.url, user: 'uploader' });
});
afterAll(() => fx?.dispose());

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const NOTE = 'The night ferry leaves the harbour at eleven and reaches the island at dawn.';

describe('files.upload', () => {
  it('uploads a Blob under a name, and a turn can use it', async () => {
    const info = await client.files.upload(new Blob([NOTE], { type: 'text/plain' }), 'ferry.txt');
    expect(info).toMatchObject({
      name: 'ferry.txt',
      userId: 'uploader',
      size: Buffer.byteLength(NOTE),
      sha256: sha256(NOTE),
      originKind: 'upload',
      origin: 'ferry.txt',
      hasText: true,
    });
    const answer = await client.converse({ query: 'When does the night ferry leave?', files: [info.id] });
    expect(answer.answer).toContain('eleven');
    expect(await client.files.get(info.id)).toMatchObject({ id: info.id, name: 'ferry.txt' });
  });

  it('reports progress to onProgress (in Node once the body is sent)', async () => {
    const seen: { loaded: number; total: number }[] = [];
    const info = await client.files.upload(new Blob([NOTE], { type: 'text/plain' }), { name: 'progress.txt', onProgress: (p) => seen.push(p) });
    expect(info).toMatchObject({ name: 'progress.txt', size: Buffer.byteLength(NOTE) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.loaded).toBe(seen.at(-1)!.total);
    expect(seen.at(-1)!.total).toBeGreaterThanOrEqual(Buffer.byteLength(NOTE));
  });

  it('takes a File (its own name), a Uint8Array and an ArrayBuffer', async () => {
    const file = await client.files.upload(new File(['file body'], 'named.md'));
    expect(file).toMatchObject({ name: 'named.md', size: 9 });

    const bytes = new Uint8Array([0, 1, 2, 3, 250, 251, 252]);
    const fromBytes = await client.files.upload(bytes, 'raw.bin');
    expect(fromBytes).toMatchObject({ name: 'raw.bin', size: 7, sha256: sha256(bytes), hasText: false });

    const fromBuffer = await client.files.upload(bytes.slice().buffer, 'copy.bin');
    expect(fromBuffer).toMatchObject({ name: 'copy.bin', size: 7, sha256: sha256(bytes) });

    const unnamed = await client.files.upload(new Uint8Array([9, 9]));
    expect(unnamed.name).toBe('upload');
  });

  it('is idempotent: the same content and name give the same record', async () => {
    const a = await client.files.upload(new Blob(['same']), 'same.txt');
    const b = await client.files.upload(new Blob(['same']), 'same.txt');
    expect(b.id).toBe(a.id);
  });

  it('is bounded by a timeoutMs given to it, not by the client’s (a large file may take long)', async () => {
    const hasty = createClient({ baseUrl: fx.server.url, user: 'uploader', timeoutMs: 1 });
    await expect(hasty.agents.list()).rejects.toBeInstanceOf(TimeoutError);
    const info = await hasty.files.upload(new Uint8Array(200 * 1024).fill(7), 'slowish.bin');
    expect(info).toMatchObject({ name: 'slowish.bin', size: 200 * 1024 });
    await expect(hasty.files.upload(new Uint8Array(200 * 1024).fill(8), { name: 'bounded.bin', timeoutMs: 1 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('rejects a file over MAX_FILE_BYTES with a typed 413', async () => {
    const err = await client.files.upload(new Uint8Array(300 * 1024), 'big.bin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).status).toBe(413);
    expect((err as BadRequestError).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
