import { presentFile } from '@colloquy/api';
import { Router } from 'express';
import { receiveUpload } from '../http/multipart-upload.ts';
import { sendError } from '../http/error-envelope.ts';
import type { ContextFor } from './caller.ts';
import { toDifyFile, type UploadFilesResponse } from './schemas.ts';

const NO_FILE = '请提供要上传的文件';
const TOO_LARGE = '文件过大';
const FAILED = '文件上传失败';
const MESSAGES = { no_file: NO_FILE, too_large: TOO_LARGE, failed: FAILED } as const;

export interface UploadRouteOptions {
  contextFor: ContextFor;
  maxFileBytes: number;
}

/**
 * `POST /files`, multipart/form-data with one `file` part (and optionally `user`): streamed to
 * disk while hashed and size-checked (see receiveUpload); a 413 as soon as the limit is crossed.
 */
export function uploadRoute(options: UploadRouteOptions): Router {
  const r = Router();
  r.post('/files', async (req, res) => {
    const outcome = await receiveUpload(req, options.contextFor, options.maxFileBytes);
    if (outcome.kind === 'aborted') return;
    if (outcome.kind === 'refused') {
      sendError(res, outcome.status, MESSAGES[outcome.reason], outcome.detail);
      return;
    }
    res.json({ message: '文件上传成功', response: [toDifyFile(presentFile(outcome.record))] } satisfies UploadFilesResponse);
  });
  return r;
}
