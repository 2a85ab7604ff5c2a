import type { PresenceEvent } from '@colloquy/store';
import { isVisible } from '../access.ts';
import { actorProcedure } from '../trpc.ts';
import { watchClientsInput, type ClientEvent } from './clients.types.ts';
import { presentClient } from './present-client.ts';

/** Events a watcher may fall behind by before its stream ends (it re-subscribes and gets a new snapshot). */
const MAX_QUEUED_EVENTS = 1000;

/**
 * The visible clients (a `snapshot`), then every `joined`, `changed` and `left` among them.
 * Visibility as for `clients.list`. A watcher that falls too far behind is ended with an error.
 */
export const watch = actorProcedure.input(watchClientsInput).subscription(async ({ ctx, input, signal }) => {
  const { actor } = ctx;
  const { presence } = ctx.services;
  const queue: PresenceEvent[] = [];
  let overflow = false;
  let wake: (() => void) | undefined;
  const unwatch = presence.watch((event) => {
    if (!isVisible(actor, event.client.userId)) return;
    if (queue.length >= MAX_QUEUED_EVENTS) overflow = true;
    else queue.push(event);
    wake?.();
  });
  const snapshot = (await presence.list(actor.scope)).map(presentClient);
  signal?.addEventListener('abort', () => wake?.(), { once: true });

  async function* follow(): AsyncGenerator<ClientEvent> {
    try {
      yield { type: 'snapshot', clients: snapshot };
      while (!signal?.aborted) {
        if (overflow) throw new Error('clients.watch fell too far behind; subscribe again');
        const event = queue.shift();
        if (event) {
          yield event.type === 'left'
            ? { type: 'left', client: presentClient(event.client), reason: event.reason }
            : { type: event.type, client: presentClient(event.client) };
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unwatch();
    }
  }
  return follow();
});
