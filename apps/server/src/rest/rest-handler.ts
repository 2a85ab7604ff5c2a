import type { Request, RequestHandler, Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import { describeProcedureError } from './procedure-error.ts';
import { FieldError } from './request-fields.ts';

/**
 * Wraps a REST handler so every failure becomes the route's `{message, error}` body with the
 * right status: FieldError → 400, procedure errors → their status, anything else → 500.
 */
export function restHandler(failureMessage: string, handle: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      await handle(req, res);
    } catch (err) {
      if (err instanceof FieldError) {
        sendError(res, 400, failureMessage, err.message);
        return;
      }
      const { status, detail } = describeProcedureError(err);
      sendError(res, status, failureMessage, detail);
    }
  };
}
