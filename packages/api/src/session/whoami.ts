import { z } from 'zod';
import { actorProcedure } from '../trpc.ts';

export const whoamiOutput = z.object({
  /** `open`: no API keys (anyone may name any user); else the key's role. */
  role: z.enum(['open', 'user', 'admin', 'app']),
  /** The user the call acts for; null when it sees every user's records (open or admin, naming none). */
  user: z.string().nullable(),
  /** The user new records belong to. */
  owner: z.string(),
  /** The key's own user (null in open mode). */
  keyUser: z.string().nullable(),
});

/**
 * Who the caller is, as every other procedure resolves it (the identity and the user named by
 * `X-Colloquy-User`): what a web app shows as "signed in as", and whether to offer a user switcher.
 */
export const whoami = actorProcedure.output(whoamiOutput).query(({ ctx }) => {
  const { actor, identity } = ctx;
  return {
    role: identity.kind === 'open' ? ('open' as const) : identity.role,
    user: actor.scope ?? null,
    owner: actor.owner,
    keyUser: identity.kind === 'key' ? identity.userId : null,
  };
});
