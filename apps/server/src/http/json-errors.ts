import type { ErrorRequestHandler, RequestHandler } from 'express';
import { sendError } from './error-envelope.ts';

/** Unknown routes: JSON 404 instead of Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, '接口不存在', `Cannot ${req.method} ${req.path}`);
};

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/**
 * Last-resort handler: body-parser failures (malformed JSON 400, too large 413, bad charset
 * 415) keep their status; anything else is a 500 whose details stay in the log.
 */
export const errorHandler: ErrorRequestHandler = (err: HttpishError, req, res, _next) => {
  const status = err.status ?? err.statusCode ?? 500;
  if (err.type === 'entity.parse.failed') {
    sendError(res, 400, '请求体不是有效的 JSON', err.message ?? 'invalid JSON');
  } else if (err.type === 'entity.too.large' || status === 413) {
    sendError(res, 413, '请求体过大', 'request body exceeds the configured limit');
  } else if (status >= 400 && status < 500) {
    sendError(res, status, '请求无效', err.expose && err.message ? err.message : 'bad request');
  } else {
    req.log.error({ err }, 'request failed');
    sendError(res, 500, '服务器内部错误', 'internal server error');
  }
};
