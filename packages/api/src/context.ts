import type { Store, StreamLog } from '@colloquy/store';
import type { AgentRegistry } from './services/agent-registry.ts';
import type { BlobStore } from './services/blob-store.ts';
import type { TurnService } from './services/turn-service.ts';
import type { UnnumberedStreamEvent } from './schemas/stream-event.ts';

/** Settings the router needs; the server's config module fills it in. */
export interface ApiConfig {
  defaultUser: string;
  /** Directories that upload-by-path may read (already resolved to real paths). */
  uploadRoots: string[];
  maxFileBytes: number;
  maxFilesPerBatch: number;
  maxFilesPerTurn: number;
  maxQueryChars: number;
}

/** Everything long-lived the procedures use; built once by the composition root. */
export interface Services {
  config: ApiConfig;
  store: Store;
  streamLog: StreamLog<UnnumberedStreamEvent>;
  blobs: BlobStore;
  agents: AgentRegistry;
  turns: TurnService;
}

/** Who is calling. Auth is open in this build; keys come with the hardening issue. */
export interface Identity {
  kind: 'open';
  /** The user named by the `X-Colloquy-User` header, if any (input `user` overrides it). */
  headerUser: string | undefined;
}

export interface Context {
  services: Services;
  identity: Identity;
}

/** Framework-independent request facts the context is built from. */
export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
}

export function createContextFactory(services: Services) {
  return ({ headers }: RequestInfo): Context => {
    const raw = headers['x-colloquy-user'];
    const headerUser = (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
    return { services, identity: { kind: 'open', headerUser } };
  };
}

/**
 * Whose data a call acts on. `scope` undefined means every user's (open mode with no user
 * named, the seed's "all conversations"); `owner` is who new records belong to.
 */
export interface Actor {
  scope: string | undefined;
  owner: string;
  /** Whether users are isolated from each other (API keys configured). */
  isolated: boolean;
}

export function resolveActor(ctx: Context, inputUser: string | undefined): Actor {
  const named = inputUser ?? ctx.identity.headerUser;
  return { scope: named, owner: named ?? ctx.services.config.defaultUser, isolated: false };
}

/** True when the record belongs to the actor's scope. */
export const isVisible = (actor: Actor, ownerId: string): boolean => actor.scope === undefined || actor.scope === ownerId;
