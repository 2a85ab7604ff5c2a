/**
 * Who is calling and what it may see — decided here, once, for every surface (tRPC, REST, the
 * OpenAI and Dify adapters, uploads, the live-video socket).
 */
import { AppError } from './errors/app-error.ts';

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
 * if any (a `user` field overrides it).
 */
export type Identity =
  | { kind: 'open'; headerUser: string | undefined }
  | { kind: 'key'; userId: string; role: Role; headerUser: string | undefined };

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

/** The fields a request names its user by, in order of precedence: `user`, alias `user_id`. */
export const USER_FIELDS = ['user', 'user_id'] as const;

/** The header that names the user when no field does. */
export const USER_HEADER = 'x-colloquy-user';

/** Where a request's fields live: a JSON body or query object, a form, URL search params. */
export type FieldSource = Readonly<Record<string, unknown>> | { get(name: string): unknown } | null | undefined;

const read = (source: FieldSource, name: string): unknown => {
  if (source === null || source === undefined) return undefined;
  const value = typeof source.get === 'function' ? (source as { get(n: string): unknown }).get(name) : (source as Record<string, unknown>)[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The user a request names in its fields: `user`, else `user_id`, from the first source that has
 * either (a body before its query string, a form before the URL). Raw — the caller checks its
 * type and shape (an empty string means none was named). `undefined` when none is named.
 */
export function userFrom(...sources: FieldSource[]): unknown {
  for (const source of sources) {
    for (const name of USER_FIELDS) {
      const value = read(source, name);
      if (value !== undefined && value !== null) return value;
    }
  }
  return undefined;
}

/** The user named by the `X-Colloquy-User` header (trimmed; empty means none). */
export function headerUserOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const raw = headers[USER_HEADER];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
}

/** The identity of a request: the key's holder when authenticated, else anyone (open mode). */
export function identityOf(principal: Principal | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): Identity {
  const headerUser = headerUserOf(headers);
  return principal ? { kind: 'key', ...principal, headerUser } : { kind: 'open', headerUser };
}

/**
 * Whose data a call acts on, from the identity and the user the call names (a field, else the
 * `X-Colloquy-User` header). A user key acts only for its own user: naming another is a 403.
 * An admin key may name any user and then acts as that user; naming none, it sees every user's
 * records and creates its own. An app key must name its end user. Open mode acts for the named
 * user, else for `defaultUser` while seeing every user's records.
 */
export function resolveActor(identity: Identity, namedUser: string | undefined, defaultUser: string): Actor {
  const named = namedUser ?? identity.headerUser;
  if (identity.kind === 'open') {
    return { scope: named, owner: named ?? defaultUser, isolated: false };
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

/** True when a record owned by `ownerId` belongs to the actor's scope. */
export const isVisible = (actor: Actor, ownerId: string): boolean => actor.scope === undefined || actor.scope === ownerId;

/**
 * The record an actor means by an id that each user has of their own (conversation and client
 * ids are chosen by clients): an actor confined to a user means that user's, and another user's
 * with the same id simply does not exist for it. An actor that sees every user means the one
 * record with that id; if several users have one, the id alone does not say which: a 409 asking
 * to name the user (never a guess, and nothing is hidden from such an actor).
 */
export async function findByOwnId<T>(
  actor: Actor,
  id: string,
  find: { own(owner: string, id: string): Promise<T | undefined>; anyOwner(id: string, limit: number): Promise<T[]> },
  ambiguity: string,
): Promise<T | undefined> {
  if (actor.scope !== undefined) return find.own(actor.scope, id);
  const found = await find.anyOwner(id, 2);
  if (found.length > 1) throw new AppError('CONFLICT', ambiguity);
  return found[0];
}
