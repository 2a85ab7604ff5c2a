import { z } from 'zod';

/** Client-chosen ids (conversation ids) and generated UUIDs share this shape. */
export const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[\w.:@-]+$/, 'may contain only letters, digits and _ . : @ -');

/** Short single-line labels (user ids, manager ids, agent ids): no control characters. */
export const labelSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export const userIdSchema = labelSchema(128);

/** Ids the server generated (messages, files): opaque, but never control characters. */
export const recordIdSchema = labelSchema(128);

/** Free text (queries, names): any characters but NUL, which no store can keep. */
export const textSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !v.includes('\0'), 'must not contain NUL characters');

/** A file id or an upload path string. */
export const fileRefSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((v) => !v.includes('\0'), 'must not contain NUL characters');

/** Largest JSON text of a conversation's `inputs`. */
export const MAX_INPUTS_JSON_CHARS = 16_384;

/** App inputs (Dify's `inputs`): a JSON object of at most MAX_INPUTS_JSON_CHARS, without NULs. */
export const inputsSchema = z
  .record(z.string(), z.unknown())
  .refine((v) => JSON.stringify(v).length <= MAX_INPUTS_JSON_CHARS, `must be at most ${MAX_INPUTS_JSON_CHARS} characters as JSON`)
  .refine((v) => !JSON.stringify(v).includes('\\u0000'), 'must not contain NUL characters');

export const isoDateSchema = z.iso.datetime();

export const limitSchema = z.number().int().min(1).max(100);

/** A page of items with an opaque cursor for the next one (null at the end). */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const toIso = (ms: number): string => new Date(ms).toISOString();
