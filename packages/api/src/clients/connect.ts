import { randomUUID } from 'node:crypto';
import { heartbeatIntervalMs, type PresenceLease } from '@colloquy/store';
import { toIso } from '../schemas/common.ts';
import { DEFAULT_PRESENCE_TIMEOUT_MS } from '../services/api-config.ts';
import { actorProcedure } from '../trpc.ts';
import { attachClient } from './attach.ts';
import { connectInput, type PresenceMessage } from './clients.types.ts';

/**
 * A presence connection: the client is listed while this subscription is open and it keeps
 * showing signs of life (`clients.heartbeat` every `heartbeatMs`). Yields the client's id, then
 * a heartbeat every `heartbeatMs` (so the client can tell a dead connection too). Ends when the
 * client went silent (timed out) or the server shuts down; the client then reconnects.
 */
export const connect = actorProcedure.input(connectInput).subscription(async ({ ctx, input, signal }) => {
  const { actor } = ctx;
  const timeoutMs = ctx.services.config.presenceTimeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS;
  const clientId = input.clientId ?? randomUUID();
  // Attached before the stream starts, so a refusal (409, 429) is an error response.
  const lease = await attachClient(ctx.services.presence, {
    id: clientId,
    userId: actor.owner,
    overwrite: true,
    details: {
      kind: input.kind ?? 'unknown',
      name: input.name ?? null,
      ip: ctx.request.ip ?? null,
      userAgent: ctx.request.userAgent ?? null,
      metadata: input.metadata ?? {},
    },
  });
  // Also released if the connection goes away before the stream is ever read (or went while attaching).
  if (signal?.aborted) lease.release();
  signal?.addEventListener('abort', () => lease.release(), { once: true });
  const connected: PresenceMessage = { type: 'connected', clientId, heartbeatMs: heartbeatIntervalMs(timeoutMs), timeoutMs };
  return hold(lease, connected, connected.heartbeatMs, signal);
});

async function* hold(
  lease: PresenceLease,
  connected: PresenceMessage,
  heartbeatMs: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<PresenceMessage> {
  const ended = signal ? AbortSignal.any([signal, lease.signal]) : lease.signal;
  try {
    yield connected;
    while (await sleep(heartbeatMs, ended)) yield { type: 'heartbeat', at: toIso(Date.now()) };
  } finally {
    lease.release();
  }
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
