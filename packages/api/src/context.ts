import type { LiveInfo, PresenceRegistry, Store, StreamLog } from '@colloquy/store';
import { requestFacts } from './clients/request-facts.ts';
import { AppError } from './errors/app-error.ts';
import { toTRPCError } from './errors/to-trpc-error.ts';
import type { AgentRegistry } from './services/agent-registry.ts';
import type { BlobStore } from './services/blob-store.ts';
import type { ByteBudget } from './services/byte-budget.ts';
import type { Logger } from './services/observability.ts';
import type { TurnService } from './services/turn-service.ts';
import type { StreamEvent } from './schemas/stream-event.ts';

/** Settings the router needs; the server's config module fills it in. */
export interface ApiConfig {
  defaultUser: string;
  /** Directories that upload-by-path may read (already resolved to real paths). */
  uploadRoots: string[];
  maxFileBytes: number;
  maxFilesPerBatch: number;
  /**
   * File content one upload-by-path request may hold in memory at once (its text files, read
   * whole to extract their text; 413 beyond). Unlimited when unset.
   */
  uploadMemoryPerRequest?: number;
  /** File content held in memory at once across the process (uploads wait their turn). Unlimited when unset. */
  uploadMemoryTotal?: number;
  maxFilesPerTurn: number;
  maxQueryChars: number;
  /** Running generations one user may have at once (429 beyond it); unlimited when unset. */
  maxConcurrentTurnsPerUser?: number;
  /**
   * API keys are configured: every request must carry an authenticated principal. The server's
   * auth middleware answers 401 first; this is the router's own backstop.
   */
  requireApiKey?: boolean;
  /** A connected client with no sign of life for this long is gone (clients heartbeat every quarter of it). */
  presenceTimeoutMs?: number;
}

/** Everything long-lived the procedures use; built once by the composition root. */
export interface Services {
  config: ApiConfig;
  store: Store;
  streamLog: StreamLog<StreamEvent>;
  blobs: BlobStore;
  agents: AgentRegistry;
  turns: TurnService;
  logger: Logger;
  /** Connected clients (presence). */
  presence: PresenceRegistry;
  /** File content held in memory at once (text extraction of uploads), across the process. */
  uploadMemory: ByteBudget;
  /** Whether live state is in-process or shared through Redis, this instance's id, readiness. */
  live: LiveInfo;
}

/**
 * `user`: acts for its own user. `admin`: sees every user, acts as any it names. `app`: one key
 * for many end users (a Dify app): each call names its end user, who lives in the key's own
 * namespace (see appEndUser).
 */
export type Role = 'user' | 'admin' | 'app';

/** The holder of a valid API key, as the server's auth middleware resolved it. */
export interface Principal {
  userId: string;
  role: Role;
}

/**
 * Who is calling: anyone (no API keys configured; users are told apart by the `user` they name)
 * or the holder of an API key. `headerUser` is the user named by the `X-Colloquy-User` header,
 * if any (an input `user` overrides it).
 */
export type Identity =
  | { kind: 'open'; headerUser: string | undefined }
  | { kind: 'key'; userId: string; role: Role; headerUser: string | undefined };

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

/** The caller's address, user agent and the client id it named in `X-Colloquy-Client`. */
export interface RequestFacts {
  ip: string | undefined;
  userAgent: string | undefined;
  clientId: string | undefined;
}

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
    const raw = headers['x-colloquy-user'];
    const headerUser = (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
    const request = requestFacts(headers, ip);
    if (principal) return { services, identity: { kind: 'key', ...principal, headerUser }, request, surface };
    if (services.config.requireApiKey) throw toTRPCError(new AppError('UNAUTHORIZED', 'missing or invalid API key'));
    return { services, identity: { kind: 'open', headerUser }, request, surface };
  };
}

/**
 * Whose data a call acts on. `scope` undefined means every user's (open mode with no user
 * named, the seed's "all conversations"); `owner` is who new records belong to.
 */
export interface Actor {
  scope: string | undefined;
  owner: string;
  /**
   * Whether the actor is confined to one user's records (a user key, or an admin key acting for
   * a user): files are then found only among that user's own, never another's by id or path.
   */
  isolated: boolean;
}

/**
 * Whose data a call acts on, from the identity and the `user` the call names (input, else the
 * `X-Colloquy-User` header). A user key acts only for its own user: naming another is a 403.
 * An admin key may name any user and then acts as that user; naming none, it sees every user's
 * records and creates its own.
 */
export function resolveActor(ctx: Context, inputUser: string | undefined): Actor {
  const { identity } = ctx;
  const named = inputUser ?? identity.headerUser;
  if (identity.kind === 'open') {
    return { scope: named, owner: named ?? ctx.services.config.defaultUser, isolated: false };
  }
  if (identity.role === 'admin') {
    return named === undefined
      ? { scope: undefined, owner: identity.userId, isolated: false }
      : { scope: named, owner: named, isolated: true };
  }
  if (identity.role === 'app') {
    if (named === undefined) {
      throw new AppError('BAD_REQUEST', 'an app key acts for an end user: name it (user, user_id or X-Colloquy-User)');
    }
    const endUser = appEndUser(identity.userId, named);
    return { scope: endUser, owner: endUser, isolated: true };
  }
  if (named !== undefined && named !== identity.userId) {
    throw new AppError('FORBIDDEN', 'this API key may act only for its own user');
  }
  return { scope: identity.userId, owner: identity.userId, isolated: true };
}

/**
 * The stored user id of an app key's end user: `<app>:<end user>`, where `<app>` is the key's
 * user (which may not contain `:`, and which no user key's user may start with followed by `:`;
 * the server's key configuration refuses both). So an app's end users can only ever be that
 * app's, whatever name a caller sends.
 */
export const appEndUser = (app: string, endUser: string): string => `${app}:${endUser}`;

/** True when the record belongs to the actor's scope. */
export const isVisible = (actor: Actor, ownerId: string): boolean => actor.scope === undefined || actor.scope === ownerId;
