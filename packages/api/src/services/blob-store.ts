import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** File contents stored once per sha256 under DATA_DIR/blobs/ab/<sha256>. */
export interface BlobStore {
  /** Writes the content unless it is already there; returns whether it was newly written. */
  put(sha256: string, data: Uint8Array): Promise<boolean>;
  remove(sha256: string): Promise<void>;
  read(sha256: string): Promise<Uint8Array>;
  pathOf(sha256: string): string;
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

export function createBlobStore(dir: string): BlobStore {
  const pathOf = (sha256: string) => join(dir, sha256.slice(0, 2), sha256);
  const stagingDir = join(dir, '.staging');
  return {
    pathOf,
    async stagingPath() {
      await mkdir(stagingDir, { recursive: true });
      return join(stagingDir, `${randomUUID()}.part`);
    },
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
    async sweepStaging() {
      const names = await readdir(stagingDir).catch(() => [] as string[]);
      await Promise.all(names.map((n) => rm(join(stagingDir, n), { force: true })));
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
