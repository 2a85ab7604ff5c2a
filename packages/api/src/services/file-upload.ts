import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extractText, guessMimeType, isTextExtractable } from '@colloquy/agents';
import type { FileRecord, FileSummary, Store } from '@colloquy/store';
import type { Actor } from '../access.ts';
import { AppError } from '../errors/app-error.ts';
import { summarizeFile } from '../schemas/presenters.ts';
import type { BlobStore } from './blob-store.ts';
import type { ByteBudget } from './byte-budget.ts';

/** Content received whole into the blob store's staging directory, not yet stored. */
export interface StagedUpload {
  path: string;
  size: number;
  sha256: string;
}

/** Bytes as a Node stream, a web stream (`Blob.stream()`) or any async iterable of chunks. */
export type UploadSource = Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export const fileTooLarge = (maxBytes: number) => new AppError('PAYLOAD_TOO_LARGE', `File is larger than ${maxBytes} bytes`);

/**
 * Streams an upload to a staging file, hashing (sha256) and counting as it goes, so nothing is
 * held in memory but the chunk in flight. More than `maxBytes` fails with PAYLOAD_TOO_LARGE as
 * soon as the limit is crossed; any failure (too large, the source erroring because the client
 * went away) removes the partial file before the error is rethrown.
 */
export async function stageUpload(
  blobs: BlobStore,
  source: UploadSource,
  maxBytes: number,
  tooLarge: () => Error = () => fileTooLarge(maxBytes),
): Promise<StagedUpload> {
  const path = await blobs.stagingPath();
  const hash = createHash('sha256');
  let size = 0;
  const input = source instanceof ReadableStream ? Readable.fromWeb(source as import('node:stream/web').ReadableStream) : source;
  try {
    await pipeline(
      input,
      async function* count(chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > maxBytes) throw tooLarge();
          hash.update(chunk);
          yield chunk;
        }
      },
      // `flush`: the data is on disk before the file is renamed in under its hash.
      createWriteStream(path, { flags: 'wx', flush: true }),
    );
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { path, size, sha256: hash.digest('hex') };
}

/** Drops a staged upload that will not be stored. */
export const discardStaged = (staged: StagedUpload): Promise<void> => rm(staged.path, { force: true });

/**
 * The name an upload is stored under: the client's file name without any directory part or
 * control characters, at most 255 characters; `upload` when nothing is left.
 */
export function uploadName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...base.replace(/\p{Cc}/gu, '').trim()].slice(0, 255).join('');
  return clean === '' || clean === '.' || clean === '..' ? 'upload' : clean;
}

/**
 * Stores a staged upload for `owner`: moved (renamed) into the content-addressed blob store,
 * text extracted for text types, recorded with originKind `upload` and the file name as its
 * origin. The same content under the same name for the same owner returns the existing record.
 * The staged file is gone afterwards whatever happens.
 */
export async function commitUpload(
  deps: { store: Store; blobs: BlobStore; uploadMemory: ByteBudget },
  owner: string,
  rawName: string | undefined,
  staged: StagedUpload,
): Promise<FileSummary> {
  const { store, blobs } = deps;
  const name = uploadName(rawName);
  let created = false;
  try {
    const existing = await store.files.findByOwnerAndContent(owner, staged.sha256, name);
    if (existing) return existing;
    const mimeType = guessMimeType(name);
    // Only text types are read back, to extract their text (within the process-wide budget of
    // content held in memory); other content is never in memory.
    const text = isTextExtractable(name, mimeType) ? await extractBudgeted(deps.uploadMemory, name, mimeType, staged) : '';
    const record: FileRecord = {
      id: randomUUID(),
      userId: owner,
      name,
      size: staged.size,
      mimeType,
      sha256: staged.sha256,
      originKind: 'upload',
      origin: name,
      text,
      upstreamIds: {},
      createdAt: Date.now(),
    };
    created = await blobs.putFile(staged.path, staged.sha256);
    try {
      await store.files.insertMany([record]);
    } catch (err) {
      if (created && (await store.files.countBySha256(staged.sha256).catch(() => 1)) === 0) await blobs.remove(staged.sha256);
      throw err;
    }
    // A concurrent upload of the same file may have won the insert: return the stored record.
    return (await store.files.findByOwnerAndContent(owner, staged.sha256, name)) ?? summarizeFile(record);
  } finally {
    await discardStaged(staged);
  }
}

async function extractBudgeted(budget: ByteBudget, name: string, mimeType: string, staged: StagedUpload): Promise<string> {
  const release = await budget.acquire(staged.size);
  try {
    return extractText({ name, mimeType, data: await readFile(staged.path) });
  } finally {
    release();
  }
}

/** What storing an upload needs. */
export type UploadDeps = { store: Store; blobs: BlobStore; uploadMemory: ByteBudget; config: { maxFileBytes: number } };

/** Stores a staged upload as the actor's (the second half of uploadFile, for a receiver that staged it). */
export function storeStagedUpload(deps: UploadDeps, actor: Actor, name: string | undefined, staged: StagedUpload): Promise<FileSummary> {
  return commitUpload(deps, actor.owner, name, staged);
}

/**
 * One whole upload for the actor (`files.upload`, and `POST /files` and Dify's upload in two
 * halves, as their multipart body names the user after the file): streamed to staging, stored.
 */
export async function uploadFile(deps: UploadDeps, actor: Actor, input: { name?: string; content: UploadSource }): Promise<FileSummary> {
  const staged = await stageUpload(deps.blobs, input.content, deps.config.maxFileBytes);
  return storeStagedUpload(deps, actor, input.name, staged);
}
