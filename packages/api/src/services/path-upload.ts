import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { extractText, guessMimeType, isTextExtractable } from '@colloquy/agents';
import type { FileRecord, FileSummary, Store } from '@colloquy/store';
import { AppError } from '../errors/app-error.ts';
import { summarizeFile } from '../schemas/presenters.ts';
import type { ApiConfig } from './api-config.ts';
import type { BlobStore } from './blob-store.ts';
import type { ByteBudget } from './byte-budget.ts';
import { discardStaged, stageUpload, type StagedUpload } from './file-upload.ts';

/** A file that passed every check, open for reading (the read goes through this descriptor). */
interface OpenedFile {
  origin: string;
  name: string;
  handle: FileHandle;
  size: number;
  /** Read whole into memory to extract its text (other types are only streamed). */
  textual: boolean;
}

export interface PathUploadDeps {
  config: ApiConfig;
  store: Store;
  blobs: BlobStore;
  /** File content held in memory at once, across the process. */
  uploadMemory: ByteBudget;
}

/**
 * Upload by server path, following the security rules: only regular files inside the upload
 * roots after resolving symlinks; `..` refused outright; relative paths resolve against the
 * first root; size-limited; the whole batch is checked and staged before anything is stored,
 * so a batch is all-or-nothing.
 *
 * Memory: each file is streamed from its descriptor to a staging file (hashed and size-checked
 * as it flows), never read whole, except that text types are read back from staging to extract
 * their text. Those bytes are bounded per request (UPLOAD_MEMORY_PER_REQUEST, 413 beyond) and
 * reserved from the process-wide budget before anything is read, so concurrent calls (the calls
 * of one tRPC batch run at once) take their turns instead of piling up.
 */
export async function uploadByPaths(deps: PathUploadDeps, owner: string, paths: string[]): Promise<FileSummary[]> {
  const { config, uploadMemory } = deps;
  if (paths.length === 0) throw new AppError('BAD_REQUEST', 'file_paths must list at least one path');
  if (paths.length > config.maxFilesPerBatch) {
    throw new AppError('PAYLOAD_TOO_LARGE', `at most ${config.maxFilesPerBatch} files per batch`);
  }
  // The same path listed twice is read once.
  const origins = [...new Set(paths)];
  const opened: OpenedFile[] = [];
  try {
    for (const origin of origins) opened.push(await openAllowedFile(config, origin));
    const inMemory = opened.reduce((n, f) => n + (f.textual ? f.size : 0), 0);
    const perRequest = config.uploadMemoryPerRequest ?? Number.POSITIVE_INFINITY;
    if (inMemory > perRequest) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `the text files of this batch total ${inMemory} bytes; at most ${perRequest} per request (upload them in smaller batches)`,
      );
    }
    const release = await uploadMemory.acquire(inMemory);
    try {
      const byOrigin = await storeOpened(deps, owner, opened);
      return paths.map((p) => byOrigin.get(p) as FileSummary);
    } finally {
      release();
    }
  } finally {
    await Promise.all(opened.map((f) => f.handle.close().catch(() => undefined)));
  }
}

/** Stages every opened file, then stores blobs and records in one go; returns the record per origin. */
async function storeOpened(deps: PathUploadDeps, owner: string, opened: OpenedFile[]): Promise<Map<string, FileSummary>> {
  const { config, store, blobs } = deps;
  const staged: { file: OpenedFile; staged: StagedUpload }[] = [];
  try {
    for (const file of opened) {
      const content = file.handle.createReadStream({ start: 0, autoClose: false });
      staged.push({ file, staged: await stageUpload(blobs, content, config.maxFileBytes, () => tooLarge(config, file.origin)) });
    }

    const now = Date.now();
    const records = new Map<string, FileSummary>();
    const fresh: { record: FileRecord; staged: StagedUpload }[] = [];
    for (const [i, { file, staged: s }] of staged.entries()) {
      // Already stored for this owner (same content, same path): that record.
      const existing = await store.files.findByOwnerAndContent(owner, s.sha256, file.origin);
      if (existing) {
        records.set(file.origin, existing);
        continue;
      }
      const mimeType = guessMimeType(file.name);
      const record: FileRecord = {
        id: randomUUID(),
        userId: owner,
        name: file.name,
        size: s.size,
        mimeType,
        sha256: s.sha256,
        originKind: 'path',
        origin: file.origin,
        // Read back from staging (this copy cannot change under us); budgeted by the caller.
        text: file.textual ? extractText({ name: file.name, mimeType, data: await readFile(s.path) }) : '',
        upstreamIds: {},
        // Distinct timestamps keep the batch's order in "newest first" listings.
        createdAt: now + i,
      };
      records.set(file.origin, summarizeFile(record));
      fresh.push({ record, staged: s });
    }
    if (fresh.length === 0) return records;

    const written: string[] = [];
    try {
      for (const { record, staged: s } of fresh) {
        if (await blobs.putFile(s.path, record.sha256)) written.push(record.sha256);
      }
      await store.files.insertMany(fresh.map((f) => f.record));
    } catch (err) {
      // Remove only blobs this call created and no record points at.
      for (const sha of written) {
        if ((await store.files.countBySha256(sha).catch(() => 1)) === 0) await blobs.remove(sha);
      }
      throw err;
    }
    // A concurrent upload of the same file may have won the insert: return the stored record.
    for (const { record } of fresh) {
      records.set(record.origin, (await store.files.findByOwnerAndContent(owner, record.sha256, record.origin)) ?? summarizeFile(record));
    }
    return records;
  } finally {
    // Staged files not renamed into the blob store (refused, duplicates, failures).
    await Promise.all(staged.map(({ staged: s }) => discardStaged(s)));
  }
}

const tooLarge = (config: ApiConfig, origin: string) =>
  new AppError('PAYLOAD_TOO_LARGE', `File is larger than ${config.maxFileBytes} bytes: ${origin}`);

/**
 * Opens a path for upload, or refuses it. Every refusal is the same answer, whatever the
 * reason (missing, outside the roots, a directory, a device, a symlink leading out, `..`): a
 * different answer for a path outside the roots that exists would tell a client which files
 * exist there. (Too large is a 413, but only a file inside the roots gets that far.)
 */
async function openAllowedFile(config: ApiConfig, origin: string): Promise<OpenedFile> {
  const refuse = () => new AppError('BAD_REQUEST', `Not a readable file inside the upload roots: ${origin}`);
  if (origin.includes('\0')) throw refuse();
  if (origin.split(/[\\/]+/).includes('..')) throw refuse();
  const [firstRoot] = config.uploadRoots;
  if (!firstRoot) throw refuse();

  const candidate = isAbsolute(origin) ? resolve(origin) : resolve(firstRoot, origin);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw refuse();
  }
  if (!config.uploadRoots.some((root) => isInside(root, real))) throw refuse();

  // Open the resolved path without following a symlink swapped in since. O_NOFOLLOW guards
  // only the last component: a parent directory swapped for a symlink between `realpath` and
  // `open` would still be followed. So what was actually opened is checked through the
  // descriptor itself: its path (the kernel's, /proc/self/fd/N) must lie inside a root, and
  // its fstat must be a regular file. The read then goes through that same descriptor.
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    throw refuse();
  }
  try {
    const opened = await openedPath(handle.fd);
    if (opened === undefined || !config.uploadRoots.some((root) => isInside(root, opened))) {
      throw refuse();
    }
    const info = await handle.stat();
    if (!info.isFile()) throw refuse();
    if (info.size > config.maxFileBytes) throw tooLarge(config, origin);
    const name = basename(real);
    return { origin, name, handle, size: info.size, textual: isTextExtractable(name, guessMimeType(name)) };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
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
