import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** File contents stored once per sha256 under DATA_DIR/blobs/ab/<sha256>. */
export interface BlobStore {
  /** Writes the content unless it is already there; returns whether it was newly written. */
  put(sha256: string, data: Uint8Array): Promise<boolean>;
  remove(sha256: string): Promise<void>;
  pathOf(sha256: string): string;
}

export const sha256Of = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function createBlobStore(dir: string): BlobStore {
  const pathOf = (sha256: string) => join(dir, sha256.slice(0, 2), sha256);
  return {
    pathOf,
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
