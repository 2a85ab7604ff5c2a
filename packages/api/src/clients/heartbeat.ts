import { resolveActor } from '../context.ts';
import { notFound } from '../errors/app-error.ts';
import { toIso } from '../schemas/common.ts';
import { publicProcedure } from '../trpc.ts';
import { heartbeatInput } from './clients.types.ts';

/** A sign of life from a connected client (the SDK sends one every `heartbeatMs`). 404 when it is not connected. */
export const heartbeat = publicProcedure.input(heartbeatInput).mutation(async ({ ctx, input }) => {
  const actor = resolveActor(ctx, input.user);
  const { presence } = ctx.services;
  const record = await presence.get(input.clientId);
  if (!record || record.userId !== actor.owner || !presence.touch(input.clientId)) throw notFound('client');
  return { clientId: record.id, lastSeen: toIso(Date.now()) };
});
