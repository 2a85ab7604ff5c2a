import type { ZodError } from 'zod';

/** `path: message; …` — zod issues as one readable line (instead of zod's JSON dump). */
export function describeZodError(err: ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
