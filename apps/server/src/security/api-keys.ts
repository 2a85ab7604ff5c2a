import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '@colloquy/api';
import { z } from 'zod';

/**
 * API keys: `API_KEYS=key:user:role,…` and the config file's `apiKeys: [{key, user, role}]`.
 * Keys are secrets: no message here ever includes one (entries are named by position and user).
 */
export const apiKeyEntrySchema = z
  .object({
    key: z
      .string()
      .min(1, 'the key is empty')
      .max(512, 'the key is longer than 512 characters')
      .regex(/^[\x21-\x7e]+$/, 'a key is printable ASCII without spaces')
      .refine((k) => !k.includes(',') && !k.includes(':'), 'a key may not contain "," or ":"'),
    user: z
      .string()
      .trim()
      .min(1, 'the user is empty')
      .max(128, 'the user is longer than 128 characters')
      .regex(/^[^\p{Cc}]+$/u, 'the user may not contain control characters'),
    role: z.enum(['user', 'admin', 'app'], { error: 'the role must be "user", "admin" or "app"' }),
  })
  .strict()
  // An app key's end users are stored as `<app>:<end user>` (appEndUser): a `:` in the app's
  // name would let two apps' namespaces overlap.
  .refine((e) => e.role !== 'app' || !e.user.includes(':'), { message: 'the user of an app key may not contain ":"' });

export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** Keys shorter than this are accepted (tests use short ones) but warned about at start-up. */
export const RECOMMENDED_KEY_LENGTH = 16;

export class ApiKeyConfigError extends Error {
  override readonly name = 'ApiKeyConfigError';
}

/** Parses `API_KEYS` (comma separated `key:user:role`; blank entries are ignored). */
export function parseApiKeys(value: string | undefined, source = 'API_KEYS'): ApiKeyEntry[] {
  if (!value) return [];
  const entries: ApiKeyEntry[] = [];
  value.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') return;
    const parts = entry.split(':');
    if (parts.length !== 3) {
      throw new ApiKeyConfigError(`${source}: entry ${i + 1} is not key:user:role (e.g. k1:alice:user,k2:ops:admin)`);
    }
    const [key, user, role] = parts as [string, string, string];
    entries.push(validate({ key, user, role }, `${source}: entry ${i + 1}`));
  });
  return entries;
}

/**
 * Merges key lists (the environment's, the config file's, …) into one, validating each entry
 * and refusing a key listed twice, even for the same user.
 */
export function mergeApiKeys(...lists: { source: string; entries: readonly unknown[] }[]): ApiKeyEntry[] {
  const merged: ApiKeyEntry[] = [];
  const where = new Map<string, string>();
  for (const { source, entries } of lists) {
    entries.forEach((raw, i) => {
      const label = `${source}: entry ${i + 1}`;
      const entry = validate(raw, label);
      const first = where.get(entry.key);
      if (first) throw new ApiKeyConfigError(`${label} (user "${entry.user}") repeats the key of ${first}; keys must be unique`);
      where.set(entry.key, `${label} (user "${entry.user}")`);
      merged.push(entry);
    });
  }
  // A user key may not act for an app's end user (its user would lie in the app's namespace).
  const apps = new Set(merged.filter((e) => e.role === 'app').map((e) => e.user));
  for (const e of merged) {
    const app = e.role === 'app' ? undefined : [...apps].find((a) => e.user.startsWith(`${a}:`));
    if (app !== undefined) {
      throw new ApiKeyConfigError(`the ${e.role} key of user "${e.user}" names an end user of app "${app}" (app end users are "${app}:<name>"); choose another user name`);
    }
  }
  return merged;
}

function validate(raw: unknown, label: string): ApiKeyEntry {
  const parsed = apiKeyEntrySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ApiKeyConfigError(`${label}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** A principal and a stable, non-secret id for its key (rate-limit bucket, logs). */
export interface KeyMatch {
  principal: Principal;
  keyId: string;
}

export interface KeyRing {
  readonly size: number;
  /** The key's holder, or undefined. Runs in time independent of which key (if any) matched. */
  authenticate(presented: string): KeyMatch | undefined;
}

/**
 * Holds only sha256 digests of the keys. A presented key is hashed and compared with every
 * configured digest using `timingSafeEqual` (fixed-length inputs, no early exit), so neither
 * the comparison nor the loop reveals how much of a key matched or which one.
 */
export function createKeyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const ring = entries.map((e) => {
    const d = digest(e.key);
    return { digest: d, match: { principal: { userId: e.user, role: e.role }, keyId: d.subarray(0, 8).toString('hex') } };
  });
  return {
    size: ring.length,
    authenticate(presented) {
      const d = digest(presented);
      let found: KeyMatch | undefined;
      for (const k of ring) {
        if (timingSafeEqual(d, k.digest) && !found) found = k.match;
      }
      return found;
    },
  };
}
