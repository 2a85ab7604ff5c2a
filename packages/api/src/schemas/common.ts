import { z } from 'zod';

/** Client-chosen ids (conversation ids) and generated UUIDs share this shape. */
export const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[\w.:@-]+$/, 'may contain only letters, digits and _ . : @ -');

export const userIdSchema = z.string().trim().min(1).max(128);

export const isoDateSchema = z.iso.datetime();

export const limitSchema = z.coerce.number().int().min(1).max(100);

/** A page of items with an opaque cursor for the next one (null at the end). */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const toIso = (ms: number): string => new Date(ms).toISOString();
