import type { Readable } from 'node:stream';
import {
  actorOf,
  AppError,
  discardStaged,
  stageUpload,
  storeStagedUpload,
  type Context,
  type StagedUpload,
  userFrom,
  userIdSchema,
} from '@colloquy/api';
import type { FileSummary } from '@colloquy/store';
import busboy from 'busboy';
import type { Request } from 'express';
import { z } from 'zod';
import { describeProcedureError } from '../rest/procedure-error.ts';

/**
 * Why an upload was refused: no usable file part (or a bad field), too large, or a failure of
 * the server's own (logged).
 */
export type UploadRefusal = { reason: 'no_file' | 'too_large' | 'failed'; status: number; detail: string };

export type UploadOutcome =
  | { kind: 'stored'; record: FileSummary }
  | ({ kind: 'refused' } & UploadRefusal)
  /** The client went away before its body was complete: nobody to answer. */
  | { kind: 'aborted' };

/** The named user, checked as every procedure's `user` (so a bad one is the same 400). */
const userValue = z.object({ user: userIdSchema.optional() });

type Parsed =
  | { kind: 'parsed' }
  | { kind: 'failed'; err: unknown }
  | { kind: 'aborted' };

/**
 * Receives a multipart/form-data upload with one `file` part (and optionally `user`/`user_id`):
 * the file is streamed to a staging file while hashed and size-checked (never held in memory),
 * then renamed into the blob store and recorded, by the same service `files.upload` uses over
 * tRPC. Too large is refused as soon as the limit is crossed; a request cut off mid-body leaves
 * nothing behind. Each route answers the outcome in its own family's shape.
 */
export async function receiveUpload(req: Request, contextFor: (req: Request) => Context, maxFileBytes: number): Promise<UploadOutcome> {
  let ctx: Context;
  let bb: busboy.Busboy;
  try {
    // Who is calling is settled before a byte of the body is read.
    ctx = contextFor(req);
  } catch (err) {
    const { status, detail } = describeProcedureError(err, req.log);
    return { kind: 'refused', reason: status < 500 ? 'no_file' : 'failed', status, detail };
  }
  try {
    if (!req.is('multipart/form-data')) throw new Error('expected a multipart/form-data body');
    bb = busboy({
      headers: req.headers,
      // Browsers send UTF-8 file names; busboy's default (latin1) would garble Chinese ones.
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 40, headerPairs: 200 },
    });
  } catch (err) {
    return { kind: 'refused', reason: 'no_file', status: 400, detail: err instanceof Error ? err.message : 'expected a multipart/form-data body' };
  }

  const fields = new Map<string, string>();
  let fileName: string | undefined;
  let fileStream: Readable | undefined;
  let staging: Promise<StagedUpload> | undefined;

  const parsed = await new Promise<Parsed>((resolve) => {
    let settled = false;
    const settle = (outcome: Parsed) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    bb.on('field', (name, value) => {
      if (!fields.has(name)) fields.set(name, value);
    });
    bb.on('file', (name, stream, info) => {
      // A body that ends mid-part errors the part's stream, possibly before anything reads it
      // (staging starts after an await): without a listener that error would crash the process.
      // The failure still reaches the answer through busboy's own 'error' and the staging pipeline.
      stream.on('error', () => undefined);
      if (name !== 'file' || staging) {
        stream.resume();
        return;
      }
      fileName = info.filename;
      fileStream = stream;
      staging = stageUpload(ctx.services.blobs, stream, maxFileBytes);
      staging.catch((err: unknown) => settle({ kind: 'failed', err }));
    });
    bb.on('close', () => settle({ kind: 'parsed' }));
    bb.on('error', (err) => settle({ kind: 'failed', err }));
    const cutOff = () => {
      if (req.complete) return;
      settle({ kind: 'aborted' });
      bb.destroy(new Error('the request body was cut off'));
    };
    req.on('error', cutOff);
    req.on('close', cutOff);
    req.pipe(bb);
  });

  if (parsed.kind !== 'parsed') {
    req.unpipe(bb);
    // Stop a staging still running and wait for it to remove its partial file.
    fileStream?.destroy(new Error('upload abandoned'));
    const staged = await staging?.catch(() => undefined);
    if (staged) await discardStaged(staged);
    if (parsed.kind === 'aborted') return { kind: 'aborted' };
    drainRest(req, maxFileBytes);
    return { kind: 'refused', ...describeFailure(req, parsed.err) };
  }

  if (!staging) return { kind: 'refused', reason: 'no_file', status: 400, detail: 'the form has no `file` part' };
  let staged: StagedUpload;
  try {
    staged = await staging;
  } catch (err) {
    return { kind: 'refused', ...describeFailure(req, err) };
  }
  try {
    // The form's fields, else the query string (where an empty value names nobody).
    const user = userValue.safeParse({ user: userFrom(fields) ?? (userFrom(req.query) || undefined) });
    if (!user.success) {
      await discardStaged(staged);
      const issue = user.error.issues[0];
      return { kind: 'refused', reason: 'no_file', status: 400, detail: issue ? `user ${issue.message}` : 'invalid user' };
    }
    return { kind: 'stored', record: await storeStagedUpload(ctx.services, actorOf(ctx, user.data.user), fileName, staged) };
  } catch (err) {
    await discardStaged(staged);
    const { status, detail } = describeProcedureError(err, req.log);
    return { kind: 'refused', reason: status === 413 ? 'too_large' : status < 500 ? 'no_file' : 'failed', status, detail };
  }
}

/**
 * Too large is a 413; a file system failure while staging (disk full, permissions) a 500, logged;
 * anything else went wrong in the multipart body itself (truncated, malformed): a 400.
 */
function describeFailure(req: Request, err: unknown): UploadRefusal {
  if (err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE') return { reason: 'too_large', status: 413, detail: err.message };
  if (typeof (err as { syscall?: unknown } | undefined)?.syscall === 'string') {
    req.log.error({ err }, 'staging an upload failed');
    return { reason: 'failed', status: 500, detail: 'internal server error' };
  }
  return { reason: 'no_file', status: 400, detail: `malformed multipart body: ${err instanceof Error ? err.message : String(err)}` };
}

/**
 * After an early answer (413, malformed body) the rest of the request is read and dropped, so
 * the client gets to read the answer and the connection can be reused; a client that sends more
 * than `limit` further bytes is cut off.
 */
function drainRest(req: Request, limit: number): void {
  if (req.complete) return;
  let extra = 0;
  req.on('data', (chunk: Buffer) => {
    extra += chunk.length;
    if (extra > limit) req.destroy();
  });
  req.resume();
}
