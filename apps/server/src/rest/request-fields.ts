import type { ErrorDetail } from '../http/error-envelope.ts';
import { userFrom } from '@colloquy/api';
import type { Request } from 'express';

/** The JSON body as an object (anything else, e.g. a missing or array body, reads as empty). */
export function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** First value of a field from the body, else the query string. */
export function fieldOf(req: Request, ...names: string[]): unknown {
  const body = bodyOf(req);
  for (const name of names) if (body[name] !== undefined && body[name] !== null) return body[name];
  const query = req.query as Record<string, unknown>;
  for (const name of names) {
    const v = query[name];
    if (v !== undefined) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** A bad request field (a 400); `detail` names it for the families that say so (OpenAI's `param`). */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    message: string,
    readonly detail: ErrorDetail = {},
  ) {
    super(message);
  }
}

/** An optional string field; a wrong type is a FieldError (answered as 400). Empty means absent. */
export function optionalString(req: Request, ...names: string[]): string | undefined {
  const v = fieldOf(req, ...names);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new FieldError(`${names[0]} must be a string`);
  return v;
}

/** The user a REST request names (the one rule: `user`, alias `user_id`, body before query). */
export function userOf(req: Request): string | undefined {
  const v = userFrom(bodyOf(req), req.query);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new FieldError('user must be a string');
  return v;
}
