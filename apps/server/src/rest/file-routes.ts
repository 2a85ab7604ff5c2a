import type { FileInfo } from '@colloquy/api';
import { Router } from 'express';
import { extname } from 'node:path';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor } from './caller.ts';
import { bodyOf, unixSeconds, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';
import { describeProcedureError } from './procedure-error.ts';

const BAD_PATHS = '请提供有效的文件路径列表';

/** A stored file in Dify's upload-response shape, plus our own fields. */
const toDifyFile = (f: FileInfo) => ({
  id: f.id,
  name: f.name,
  size: f.size,
  extension: extname(f.name).replace(/^\./, ''),
  mime_type: f.mimeType,
  created_by: f.userId,
  created_at: unixSeconds(f.createdAt),
  sha256: f.sha256,
  path: f.origin,
});

export function fileRoutes(callerFor: CallerFor): Router {
  const r = Router();
  r.post(
    '/upload_files',
    restHandler('文件上传失败', async (req, res) => {
      const paths = bodyOf(req).file_paths;
      if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p.length > 0)) {
        sendError(res, 400, BAD_PATHS, 'file_paths must be a non-empty array of path strings');
        return;
      }
      try {
        const files = await callerFor(req).files.uploadPaths({ paths: paths as string[], user: userOf(req) });
        res.json({ message: '文件上传成功', response: files.map(toDifyFile) });
      } catch (err) {
        const { status, detail } = describeProcedureError(err);
        // Refused paths are the client's error (400); only real failures are 文件上传失败.
        sendError(res, status, status < 500 ? BAD_PATHS : '文件上传失败', detail);
      }
    }),
  );
  return r;
}
