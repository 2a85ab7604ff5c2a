import { presentFile } from '@colloquy/api';
import { Router } from 'express';
import { sendError } from '../http/error-envelope.ts';
import { receiveUpload } from '../http/multipart-upload.ts';
import type { ContextFor } from '../rest/caller.ts';
import { toDifyFile } from '../rest/schemas.ts';
import type { UploadedFile } from './schemas.ts';

/** Dify's codes for a refused upload. */
const CODES = { no_file: 'no_file_uploaded', too_large: 'file_too_large', failed: 'internal_server_error' } as const;

/**
 * `POST /v1/files/upload`: multipart `file` (+ `user`), streamed to disk like every upload
 * (receiveUpload); 201 with Dify's file object, whose id a chat message names in `files`.
 */
export function fileUploadRoute(options: { contextFor: ContextFor; maxFileBytes: number }): Router {
  const r = Router();
  r.post('/v1/files/upload', async (req, res) => {
    const outcome = await receiveUpload(req, options.contextFor, options.maxFileBytes);
    if (outcome.kind === 'aborted') return;
    if (outcome.kind === 'refused') {
      // A refusal of who is calling (401, 403) keeps its own code; the body's problems have Dify's.
      const code = outcome.status === 400 || outcome.status === 413 || outcome.status >= 500 ? CODES[outcome.reason] : undefined;
      sendError(res, outcome.status, 'file upload failed', outcome.detail, code ? { code } : {});
      return;
    }
    // The REST layer's Dify-shaped file, without the two fields Dify's own upload answer lacks.
    const { sha256: _sha256, path: _path, ...uploaded } = toDifyFile(presentFile(outcome.record));
    res.status(201).json(uploaded satisfies UploadedFile);
  });
  return r;
}
