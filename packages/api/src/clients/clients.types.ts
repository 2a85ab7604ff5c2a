import { z } from 'zod';
import { idSchema, labelSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/** A client's metadata, serialized, is at most this many bytes of JSON. */
export const MAX_CLIENT_METADATA_BYTES = 2048;

export const clientIdSchema = idSchema;

export const clientKindSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(32, 'must be at most 32 characters')
  .regex(/^[\w.-]+$/, 'may contain only letters, digits and _ . -');

export const clientMetadataSchema = z
  .record(z.string().max(64, 'metadata keys must be at most 64 characters'), z.json())
  .refine(
    (m) => new TextEncoder().encode(JSON.stringify(m)).length <= MAX_CLIENT_METADATA_BYTES,
    `must be at most ${MAX_CLIENT_METADATA_BYTES} bytes of JSON`,
  );

export const connectInput = z
  .object({
    ...userFields,
    /** The id this client goes by (it sends it as `X-Colloquy-Client` too); generated when absent. */
    clientId: clientIdSchema.optional(),
    kind: clientKindSchema.optional(),
    name: labelSchema(128).optional(),
    metadata: clientMetadataSchema.optional(),
  })
  .strict();
export type ConnectInput = z.input<typeof connectInput>;

export const heartbeatInput = z.object({ ...userFields, clientId: clientIdSchema }).strict();

export const listClientsInput = z.object({ ...userFields }).strict().optional();
export const watchClientsInput = z.object({ ...userFields }).strict().optional();

export const clientInfoSchema = z.object({
  id: z.string(),
  userId: z.string(),
  kind: z.string(),
  name: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  connectedAt: z.string(),
  lastSeen: z.string(),
  openStreams: z.number().int().nonnegative(),
  publishing: z.boolean(),
});
export type ClientInfo = z.infer<typeof clientInfoSchema>;

export const clientListSchema = z.object({ count: z.number().int().nonnegative(), clients: z.array(clientInfoSchema) });
export type ClientList = z.infer<typeof clientListSchema>;

/** What a presence connection (`clients.connect`) receives: its id first, then heartbeats. */
export type PresenceMessage =
  | {
      type: 'connected';
      clientId: string;
      /** How often to send `clients.heartbeat` (or any request naming the client). */
      heartbeatMs: number;
      /** Silence for this long and the client is dropped. */
      timeoutMs: number;
    }
  | { type: 'heartbeat'; at: string };

/** What `clients.watch` yields: the visible clients first, then every join, change and leave. */
export type ClientEvent =
  | { type: 'snapshot'; clients: ClientInfo[] }
  | { type: 'joined'; client: ClientInfo }
  | { type: 'changed'; client: ClientInfo }
  | { type: 'left'; client: ClientInfo; reason: 'closed' | 'timeout' | 'shutdown' };
