import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobContentStore } from '@colloquy/store';

/**
 * File contents, stored once per sha256: as files under DATA_DIR/blobs/ab/<sha256>
 * (`createBlobStore`, one machine), or in the database (`createDatabaseBlobStore`, for
 * instances that share no disk). Uploads are staged on the local disk either way.
 */
export interface BlobStore {
  /** Writes the content unless it is already there; returns whether it was newly written. */
  put(sha256: string, data: Uint8Array): Promise<boolean>;
  remove(sha256: string): Promise<void>;
  read(sha256: string): Promise<Uint8Array>;
  /**
   * A fresh path in the staging directory (on the blob store's file system, so `putFile` is a
   * rename) for content being received; the directory exists once this resolves.
   */
  stagingPath(): Promise<string>;
  /**
   * Moves a complete staged file in under its hash (a rename, never a copy). When the content
   * is already stored the staged file is removed instead. Returns whether it was newly stored.
   */
  putFile(stagedPath: string, sha256: string): Promise<boolean>;
  /** Removes staged files a previous process left behind (run once at start-up). */
  sweepStaging(): Promise<void>;
}

export const sha256Of = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Staging on the local disk, shared by both stores. */
function staging(dir: string): Pick<BlobStore, 'stagingPath' | 'sweepStaging'> {
  const stagingDir = join(dir, '.staging');
  return {
    async stagingPath() {
      await mkdir(stagingDir, { recursive: true });
      return join(stagingDir, `${randomUUID()}.part`);
    },
    async sweepStaging() {
      const names = await readdir(stagingDir).catch(() => [] as string[]);
      await Promise.all(names.map((n) => rm(join(stagingDir, n), { force: true })));
    },
  };
}

/** Chunks of file contents in the database (a 20 MB file is 80 rows). */
const CHUNK_BYTES = 256 * 1024;

/**
 * File contents in the database (the store's `blob_chunks`), staged on the local disk while
 * they arrive: any instance on the same database reads a file another received — what agents
 * that upload files to their upstream (Dify) need on whichever instance runs the turn.
 */
export function createDatabaseBlobStore(contents: BlobContentStore, stagingDir: string): BlobStore {
  return {
    ...staging(stagingDir),
    async putFile(stagedPath, sha256) {
      try {
        if (await contents.has(sha256)) return false;
        return await contents.write(sha256, createReadStream(stagedPath, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>);
      } finally {
        await rm(stagedPath, { force: true });
      }
    },
    put(sha256, data) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < data.length; at += CHUNK_BYTES) chunks.push(data.subarray(at, at + CHUNK_BYTES));
      return contents.write(sha256, chunks);
    },
    async read(sha256) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of contents.read(sha256)) chunks.push(chunk);
      if (chunks.length === 0) throw new Error(`no stored content for ${sha256}`);
      return Buffer.concat(chunks);
    },
    remove: (sha256) => contents.remove(sha256),
  };
}

export function createBlobStore(dir: string): BlobStore {
  const pathOf = (sha256: string) => join(dir, sha256.slice(0, 2), sha256);
  return {
    ...staging(dir),
    async putFile(stagedPath, sha256) {
      const target = pathOf(sha256);
      if (await exists(target)) {
        await rm(stagedPath, { force: true });
        return false;
      }
      await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
      await rename(stagedPath, target);
      return true;
    },
    async put(sha256, data) {
      const target = pathOf(sha256);
      if (await exists(target)) return false;
      await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
      // Write to a temp name and rename, so a crash never leaves a truncated blob under its hash.
      const tmp = `${target}.${randomUUID()}.tmp`;
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
      return true;
    },
    read: (sha256) => readFile(pathOf(sha256)),
    async remove(sha256) {
      await rm(pathOf(sha256), { force: true });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
