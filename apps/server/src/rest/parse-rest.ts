import { userFrom } from '@colloquy/api';
import type { Request } from 'express';
import type { z } from 'zod';
import { parseRequest } from '../http/parse-request.ts';
import { bodyOf, FieldError } from './request-fields.ts';

/**
 * What a REST route accepts, read as the original API reads it: GET routes from the query
 * string; the others from the JSON body, a field the body lacks also from the query string
 * (`bodyOnly` fields from the body alone). An empty string or a null names nothing. The same
 * object makes the route's part of /openapi.json (see openapi/document.ts), so the document
 * lists exactly the fields a handler accepts.
 */
export interface RestRequest<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  from: 'query' | 'body';
  bodyOnly?: readonly (keyof S['shape'] & string)[];
  /** The contract's `message` of a 400 about this field, where it is not the route's own (请提供查询内容). */
  messages?: Readonly<Partial<Record<keyof S['shape'] & string, string>>>;
}

/** Any route's request, as the API document reads it. */
export interface RestRequestDoc {
  schema: z.ZodObject;
  from: 'query' | 'body';
  bodyOnly?: readonly string[];
}

export const restRequest = <S extends z.ZodObject>(request: RestRequest<S>): RestRequest<S> => request;

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** The fields a request sends for a route, before they are checked. */
export function restFields(request: Omit<RestRequestDoc, 'schema'>, req: Request): Record<string, unknown> {
  const bodyOnly = new Set<string>(request.bodyOnly ?? []);
  // No prototype: a body may name `__proto__`.
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(req.query as Record<string, unknown>)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (!bodyOnly.has(name) && present(value)) fields[name] = value;
  }
  if (request.from === 'body') {
    for (const [name, value] of Object.entries(bodyOf(req))) if (present(value)) fields[name] = value;
  }
  return fields;
}

/**
 * A REST request's fields checked by its route's schema: the output (its `user` the user named
 * by `user` or `user_id`), or a FieldError that the route answers as its 400 envelope
 * (`{message: <the route's or the field's message>, error}`).
 */
export function parseRest<S extends z.ZodObject>(request: RestRequest<S>, req: Request): z.output<S> {
  try {
    const fields = parseRequest(request.schema, restFields(request, req));
    // `user` is the user named (access.ts's one rule: `user`, alias `user_id`), both checked above.
    const user = userFrom(fields);
    return user === undefined ? fields : { ...fields, user };
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    const field = err.detail.param?.split(/[.[]/)[0];
    const message = field === undefined ? undefined : request.messages?.[field as keyof S['shape'] & string];
    throw message === undefined ? err : new FieldError(err.message, err.detail, message);
  }
}
