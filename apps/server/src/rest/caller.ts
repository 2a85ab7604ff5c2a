import { createCaller, type Context, type RequestInfo } from '@colloquy/api';
import type { Request } from 'express';

export type CallerFor = (req: Request, signal?: AbortSignal) => ReturnType<typeof createCaller>;

/** REST handlers call the same router as tRPC clients, through a server-side caller. */
export function makeCallerFor(createContext: (info: RequestInfo) => Context): CallerFor {
  return (req, signal) => createCaller(createContext({ headers: req.headers }), { signal });
}
