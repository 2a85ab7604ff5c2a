import { Agent, type Dispatcher } from 'undici';

let shared: Agent | undefined;

/**
 * The keep-alive connection pool for the upstream calls of every agent that was given no
 * dispatcher of its own, created on first use. Its own header and body timeouts are off: each
 * request's Deadline applies ours (first byte, idle per chunk), which are configurable and also
 * cover connecting. Idle sockets are unref'd by undici, so the pool never holds the process open.
 */
export function sharedDispatcher(): Dispatcher {
  shared ??= new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  return shared;
}
