import type { Request, Response } from 'express';

/** The one error body every route answers with: `{message, error}`, never HTML or a stack. */
export interface ErrorBody {
  message: string;
  error: string;
}

export function sendError(res: Response, status: number, message: string, error: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).json({ message, error } satisfies ErrorBody);
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
