import { router } from '../trpc.ts';
import { deleteFile } from './delete.ts';
import { getFile } from './get.ts';
import { listFiles } from './list.ts';
import { upload } from './upload.ts';
import { uploadPaths } from './upload-paths.ts';

export const filesRouter = router({ uploadPaths, upload, list: listFiles, get: getFile, delete: deleteFile });
