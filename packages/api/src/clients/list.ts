import { actorProcedure } from '../trpc.ts';
import { clientListSchema, listClientsInput } from './clients.types.ts';
import { presentClient } from './present-client.ts';

/**
 * The connected clients the caller may see: its user's own; every user's for an admin key (or,
 * without API keys, when no user is named).
 */
export const list = actorProcedure
  .input(listClientsInput)
  .output(clientListSchema)
  .query(async ({ ctx, input }) => {
    const { actor } = ctx;
    const clients = (await ctx.services.presence.list(actor.scope)).map(presentClient);
    return { count: clients.length, clients };
  });
