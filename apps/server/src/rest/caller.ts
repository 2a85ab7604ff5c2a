import { createCaller, type Context, type RequestInfo } from '@colloquy/api';
import type { Request } from 'express';
import { principalOf } from '../security/index.ts';

export type CallerFor = (req: Request, signal?: AbortSignal) => ReturnType<typeof createCaller>;

export type ContextFor = (req: Request) => Context;

/** The router context of a REST request (a tRPC call's, on the `rest` surface: the original API's rules). */
export function makeContextFor(createContext: (info: RequestInfo) => Context): ContextFor {
  return (req) => createContext({ headers: req.headers, principal: principalOf(req), ip: req.ip, surface: 'rest' });
}

/** REST handlers call the same router as tRPC clients, through a server-side caller. */
export function makeCallerFor(createContext: (info: RequestInfo) => Context): CallerFor {
  const contextFor = makeContextFor(createContext);
  return (req, signal) => createCaller(contextFor(req), { signal });
}
