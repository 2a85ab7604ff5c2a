import { tracked } from '@trpc/server';
import { countOpenStream } from '../clients/count-stream.ts';
import type { StreamEvent } from '../schemas/stream-event.ts';
import { MappedStream } from '../services/mapped-stream.ts';
import { actorProcedure } from '../trpc.ts';
import { eventsInput } from './events.types.ts';

/**
 * Streams a turn's events; also how a client re-attaches. Access is checked before the first
 * event (so a 404 is an error response, not a broken stream).
 */
export const events = actorProcedure.input(eventsInput).subscription(async ({ ctx, input, signal }) => {
  const { actor } = ctx;
  const stream = await ctx.services.turns.events(actor, input.messageId, Number(input.lastEventId ?? 0), signal, input.awaitStart === true);
  // Tracked before it is counted: the map fuses with the turn service's own (one wait per stream).
  return countOpenStream(ctx, actor.owner, MappedStream.of(stream, trackEvent));
});

/** tRPC's tracked envelope: SSE clients resume after the last id they saw. */
function trackEvent(event: StreamEvent) {
  return tracked(event.id, event);
}
