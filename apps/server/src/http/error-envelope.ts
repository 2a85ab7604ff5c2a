import type { Response } from 'express';

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
