import type { Request, RequestHandler, Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import { describeProcedureError } from './procedure-error.ts';
import { FieldError } from './request-fields.ts';

/**
 * Wraps a REST handler so every failure becomes the route's `{message, error}` body with the
 * right status (see describeProcedureError: bad fields → 400, procedure errors → their status).
 */
export function restHandler(failureMessage: string, handle: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      await handle(req, res);
    } catch (err) {
      answerFailure(failureMessage, req, res, err);
    }
  };
}

/**
 * Answers a failure as restHandler does (also for work a handler left running, e.g. a stream):
 * logged when it is the server's, `{message, error}` with its status, or just the end of a
 * response that has already begun.
 */
export function answerFailure(failureMessage: string, req: Request, res: Response, err: unknown): void {
  const { status, detail, retryAfterSeconds, fields } = describeProcedureError(err, req.log);
  if (retryAfterSeconds !== undefined && !res.headersSent) res.setHeader('Retry-After', String(retryAfterSeconds));
  const message = err instanceof FieldError && err.envelopeMessage !== undefined ? err.envelopeMessage : failureMessage;
  sendError(res, status, message, detail, fields);
}
