import { Router } from 'express';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor } from './caller.ts';
import { parseRest } from './parse-rest.ts';
import { restHandler } from './rest-handler.ts';
import { describeProcedureError } from './procedure-error.ts';
import { toDifyFile, uploadFilesRequest, type UploadFilesResponse } from './schemas.ts';

const BAD_PATHS = '请提供有效的文件路径列表';

export function fileRoutes(callerFor: CallerFor): Router {
  const r = Router();
  r.post(
    '/upload_files',
    restHandler('文件上传失败', async (req, res) => {
      const q = parseRest(uploadFilesRequest, req);
      try {
        const files = await callerFor(req).files.uploadPaths({ paths: q.file_paths, user: q.user });
        res.json({ message: '文件上传成功', response: files.map(toDifyFile) } satisfies UploadFilesResponse);
      } catch (err) {
        const { status, detail } = describeProcedureError(err, req.log);
        // Refused paths are the client's error (400); only real failures are 文件上传失败.
        sendError(res, status, status < 500 ? BAD_PATHS : '文件上传失败', detail);
      }
    }),
  );
  return r;
}
