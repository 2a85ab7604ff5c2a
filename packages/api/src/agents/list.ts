import { z } from 'zod';
import { agentSchema } from '../schemas/records.ts';
import { publicProcedure } from '../trpc.ts';

export const listAgentsInput = z
  .object({
    /** Ask each agent whether its upstream answers (default true); false answers at once, with `reachable: null`. */
    checkReachability: z.boolean().optional(),
  })
  .strict()
  .optional();

/** `reachable`: null when not checked. */
export const listAgentsOutput = z.array(agentSchema.extend({ reachable: z.boolean().nullable() }));

export const listAgents = publicProcedure
  .input(listAgentsInput)
  .output(listAgentsOutput)
  .query(async ({ ctx, input }) => {
    const { agents } = ctx.services;
    const check = input?.checkReachability !== false;
    return Promise.all(
      agents.list().map(async (a) => ({
        ...a.info,
        isDefault: a.info.id === agents.defaultId,
        reachable: check ? await a.checkReachable().catch(() => false) : null,
      })),
    );
  });
