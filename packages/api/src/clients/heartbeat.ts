import { notFound } from '../errors/app-error.ts';
import { toIso } from '../schemas/common.ts';
import { actorProcedure } from '../trpc.ts';
import { heartbeatInput } from './clients.types.ts';

/** A sign of life from a connected client (the SDK sends one every `heartbeatMs`). 404 when it is not connected. */
export const heartbeat = actorProcedure.input(heartbeatInput).mutation(async ({ ctx, input }) => {
  const { actor } = ctx;
  const { presence } = ctx.services;
  // Client ids are per user: this names the caller's own client of that id, or none.
  const record = await presence.get(actor.owner, input.clientId);
  if (!record || !(await presence.touch(actor.owner, input.clientId))) throw notFound('client');
  return { clientId: record.id, lastSeen: toIso(Date.now()) };
});
