import type { ErrorDetail } from '../http/error-envelope.ts';
import type { Request } from 'express';

/** The JSON body as an object (anything else, e.g. a missing or array body, reads as empty). */
export function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/**
 * A bad request field (a 400); `detail` names it for the families that say so (OpenAI's `param`).
 * `envelopeMessage`: the REST envelope's `message` for it, where the route's own is not it.
 */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    message: string,
    readonly detail: ErrorDetail = {},
    readonly envelopeMessage?: string,
  ) {
    super(message);
  }
}
