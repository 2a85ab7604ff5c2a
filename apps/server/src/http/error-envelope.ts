import type { Request, Response } from 'express';

/** The REST routes' error body: `{message, error}`, never HTML or a stack. */
export interface ErrorBody {
  message: string;
  error: string;
}

/**
 * The route families, each answering errors in its own shape: the original REST API's
 * `{message, error}`, OpenAI's `{error: {message, type, param, code}}` and Dify's
 * `{code, message, status}`. Every error answer goes through `sendError`, which picks the shape
 * from the request's path — so a refusal made before any route runs (401, 403, 404, 413, 421,
 * 429, 503) reaches an OpenAI or Dify client in the shape its library parses.
 */
export type ErrorFamily = 'rest' | 'openai' | 'dify';

/** What a route may add to an error besides its status and text (OpenAI's `param`, a family's own code). */
export interface ErrorDetail {
  /** The request field the error is about (OpenAI's `param`). */
  param?: string;
  /** The family's error code, where the status's default does not say it (e.g. `model_not_found`). */
  code?: string;
  /** OpenAI's error `type`, where the status's default does not say it. */
  type?: string;
}

/** The family of a request path: OpenAI's routes, then every other `/v1` path (Dify's Service API), then REST. */
export function errorFamilyOf(path: string): ErrorFamily {
  if (path === '/v1/chat/completions' || path === '/v1/models' || path.startsWith('/v1/models/')) return 'openai';
  if (path === '/v1' || path.startsWith('/v1/')) return 'dify';
  return 'rest';
}

/** OpenAI's `type` and `code` for a status (as its API sends them). */
function openaiDefaults(status: number): { type: string; code: string | null } {
  switch (status) {
    case 401:
      return { type: 'invalid_request_error', code: 'invalid_api_key' };
    case 403:
      return { type: 'invalid_request_error', code: 'permission_denied' };
    case 404:
      return { type: 'invalid_request_error', code: 'not_found' };
    case 409:
      return { type: 'invalid_request_error', code: 'conflict' };
    case 413:
      return { type: 'invalid_request_error', code: 'request_too_large' };
    case 429:
      return { type: 'requests', code: 'rate_limit_exceeded' };
    default:
      return status >= 500 ? { type: 'server_error', code: null } : { type: 'invalid_request_error', code: null };
  }
}

/** Dify's error `code` for a status (its Service API's codes). */
function difyCode(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_param';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'request_entity_too_large';
    case 415:
      return 'unsupported_media_type';
    case 421:
      return 'misdirected_request';
    case 429:
      return 'too_many_requests';
    case 503:
      return 'service_unavailable';
    default:
      return status >= 500 ? 'internal_server_error' : 'bad_request';
  }
}

/**
 * The error body for a family. `message` is the REST routes' (Chinese, part of the original
 * contract); `error` says why in English and is the message of the other families.
 */
export function errorBodyOf(family: ErrorFamily, status: number, message: string, error: string, detail: ErrorDetail = {}): unknown {
  if (family === 'openai') {
    const defaults = openaiDefaults(status);
    return { error: { message: error, type: detail.type ?? defaults.type, param: detail.param ?? null, code: detail.code ?? defaults.code } };
  }
  if (family === 'dify') return { code: detail.code ?? difyCode(status), message: error, status };
  return { message, error } satisfies ErrorBody;
}

/** The path a request was sent to (before any router stripped a mount path). */
const pathOf = (req: Request | undefined): string => {
  const url = req?.originalUrl ?? req?.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

export function sendError(res: Response, status: number, message: string, error: string, detail?: ErrorDetail): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).json(errorBodyOf(errorFamilyOf(pathOf(res.req)), status, message, error, detail));
}

/**
 * For refusals answered before a request's body was read (no key, over the rate limit, a foreign
 * host): the connection is closed after the answer instead of being kept for a body nobody
 * will read — a client that never sends it would otherwise hold the socket until a timeout.
 */
export function refuseConnection(req: Request, res: Response, status: number, message: string, error: string): void {
  if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
  sendError(res, status, message, error);
}
