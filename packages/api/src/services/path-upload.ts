import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { extractText, guessMimeType } from '@colloquy/agents';
import type { FileRecord, Store } from '@colloquy/store';
import { AppError } from '../errors/app-error.ts';
import type { ApiConfig } from '../context.ts';
import { sha256Of, type BlobStore } from './blob-store.ts';

interface ReadFile {
  origin: string;
  name: string;
  data: Buffer;
  sha256: string;
}

/**
 * Upload by server path, following the security rules: only regular files inside the upload
 * roots after resolving symlinks; `..` refused outright; relative paths resolve against the
 * first root; size-limited; the whole batch is validated and read before anything is stored,
 * so a batch is all-or-nothing.
 */
export async function uploadByPaths(
  deps: { config: ApiConfig; store: Store; blobs: BlobStore },
  owner: string,
  paths: string[],
): Promise<FileRecord[]> {
  const { config, store, blobs } = deps;
  if (paths.length === 0) throw new AppError('BAD_REQUEST', 'file_paths must list at least one path');
  if (paths.length > config.maxFilesPerBatch) {
    throw new AppError('PAYLOAD_TOO_LARGE', `at most ${config.maxFilesPerBatch} files per batch`);
  }

  const read: ReadFile[] = [];
  for (const origin of paths) read.push(await readAllowedFile(config, origin));

  const now = Date.now();
  const records: FileRecord[] = [];
  const fresh: FileRecord[] = [];
  for (const [i, f] of read.entries()) {
    // The same path twice in one batch, or already stored for this owner: one record.
    const existing =
      records.find((r) => r.sha256 === f.sha256 && r.origin === f.origin) ??
      (await store.files.findByOwnerAndContent(owner, f.sha256, f.origin));
    if (existing) {
      records.push(existing);
      continue;
    }
    const mimeType = guessMimeType(f.name);
    const record: FileRecord = {
      id: randomUUID(),
      userId: owner,
      name: f.name,
      size: f.data.length,
      mimeType,
      sha256: f.sha256,
      originKind: 'path',
      origin: f.origin,
      text: extractText({ name: f.name, mimeType, data: f.data }),
      upstreamIds: {},
      // Distinct timestamps keep the batch's order in "newest first" listings.
      createdAt: now + i,
    };
    records.push(record);
    fresh.push(record);
  }

  const written: string[] = [];
  try {
    for (const f of read) {
      if (await blobs.put(f.sha256, f.data)) written.push(f.sha256);
    }
    await store.files.insertMany(fresh);
  } catch (err) {
    // Remove only blobs this call created and no record points at.
    for (const sha of written) {
      if ((await store.files.countBySha256(sha).catch(() => 1)) === 0) await blobs.remove(sha);
    }
    throw err;
  }
  if (fresh.length === 0) return records;
  // A concurrent upload of the same file may have won the insert: return the stored record.
  return Promise.all(
    records.map(async (r) =>
      fresh.includes(r) ? ((await store.files.findByOwnerAndContent(owner, r.sha256, r.origin)) ?? r) : r,
    ),
  );
}

async function readAllowedFile(config: ApiConfig, origin: string): Promise<ReadFile> {
  const refuse = (why: string, code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' = 'BAD_REQUEST') =>
    new AppError(code, `${why}: ${origin}`);
  if (origin.includes('\0')) throw refuse('Invalid path');
  if (origin.split(/[\\/]+/).includes('..')) throw refuse('Path may not contain ".."');
  const [firstRoot] = config.uploadRoots;
  if (!firstRoot) throw refuse('No upload roots are configured');

  const candidate = isAbsolute(origin) ? resolve(origin) : resolve(firstRoot, origin);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw refuse('File not found');
  }
  if (!config.uploadRoots.some((root) => isInside(root, real))) throw refuse('Path is outside the allowed upload roots');

  // Open the resolved path without following a symlink swapped in since. O_NOFOLLOW guards
  // only the last component: a parent directory swapped for a symlink between `realpath` and
  // `open` would still be followed. So what was actually opened is checked through the
  // descriptor itself: its path (the kernel's, /proc/self/fd/N) must lie inside a root, and
  // its fstat must be a regular file. The read then goes through that same descriptor.
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    throw refuse('File cannot be read');
  }
  try {
    const opened = await openedPath(handle.fd);
    if (opened === undefined || !config.uploadRoots.some((root) => isInside(root, opened))) {
      throw refuse('Path is outside the allowed upload roots');
    }
    const info = await handle.stat();
    if (!info.isFile()) throw refuse('Not a regular file');
    const tooLarge = () => refuse(`File is larger than ${config.maxFileBytes} bytes`, 'PAYLOAD_TOO_LARGE');
    if (info.size > config.maxFileBytes) throw tooLarge();
    const data = await handle.readFile();
    if (data.length > config.maxFileBytes) throw tooLarge();
    return { origin, name: basename(real), data, sha256: sha256Of(data) };
  } finally {
    await handle.close();
  }
}

/**
 * The path of the file an open descriptor refers to, as the kernel resolved it when it was
 * opened (symlinks and swapped directories included); undefined where the system does not
 * expose it (no /proc: such systems cannot prove where a descriptor points, so upload by path
 * refuses everything there rather than trust the earlier `realpath`).
 */
async function openedPath(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
