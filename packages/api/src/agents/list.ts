import { z } from 'zod';
import { agentSchema } from '../schemas/records.ts';
import { publicProcedure } from '../trpc.ts';

export const listAgentsOutput = z.array(agentSchema.extend({ reachable: z.boolean() }));

export const listAgents = publicProcedure.output(listAgentsOutput).query(async ({ ctx }) => {
  const { agents } = ctx.services;
  return Promise.all(
    agents.list().map(async (a) => ({
      ...a.info,
      isDefault: a.info.id === agents.defaultId,
      reachable: await a.checkReachable().catch(() => false),
    })),
  );
});
