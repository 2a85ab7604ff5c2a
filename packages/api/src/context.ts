import { identityOf, resolveActor, type Actor, type Identity, type Principal } from './access.ts';
import { requestFacts, type RequestFacts } from './clients/request-facts.ts';
import { AppError } from './errors/app-error.ts';
import { toTRPCError } from './errors/to-trpc-error.ts';
import type { Services } from './services/container.ts';

/** The tRPC context of a call: the services, who is calling, and facts about the connection. */
export interface Context {
  services: Services;
  identity: Identity;
  /** Facts about the connection: for presence records and stream attribution. */
  request: RequestFacts;
  /**
   * The surface the call came in through. The REST compatibility layer keeps the original API's
   * rules where they differ from tRPC's (a turn's `manager_id` that differs from the continued
   * conversation's is ignored there, a 409 over tRPC).
   */
  surface: Surface;
}

export type Surface = 'trpc' | 'rest';

/** Framework-independent request facts the context is built from. */
export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
  /** The API key's holder, authenticated by the host before the router runs (none when open). */
  principal?: Principal;
  /** The peer's address as the host sees it (after its trusted-proxy rules). */
  ip?: string;
  /** Default `trpc`; the REST compatibility layer's server-side caller says `rest`. */
  surface?: Surface;
}

export function createContextFactory(services: Services) {
  return ({ headers, principal, ip, surface = 'trpc' }: RequestInfo): Context => {
    if (!principal && services.config.requireApiKey) throw toTRPCError(new AppError('UNAUTHORIZED', 'missing or invalid API key'));
    return { services, identity: identityOf(principal, headers), request: requestFacts(headers, ip), surface };
  };
}

/** Whose data a call in this context acts on, for the user it names (see resolveActor). */
export const actorOf = (ctx: Context, namedUser: string | undefined): Actor =>
  resolveActor(ctx.identity, namedUser, ctx.services.config.defaultUser);
