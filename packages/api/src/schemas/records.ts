import { MESSAGE_STATUSES, type Citation as StoredCitation, type Usage as StoredUsage } from '@colloquy/store';
import { z } from 'zod';
import { isoDateSchema } from './common.ts';

// Usage, citations and message statuses are declared by the store; these schemas check that
// they say the same (a field added there and not here fails to compile).
export const messageStatusSchema = z.enum(MESSAGE_STATUSES);

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
}) satisfies z.ZodType<StoredUsage>;

export const citationSchema = z.object({
  fileId: z.string().nullable(),
  fileName: z.string(),
  passage: z.string(),
  score: z.number(),
}) satisfies z.ZodType<StoredCitation>;

export const conversationSchema = z.object({
  id: z.string(),
  userId: z.string(),
  agentId: z.string(),
  name: z.string(),
  managerId: z.string().nullable(),
  upstreamConversationId: z.string().nullable(),
  /** App inputs (Dify's `inputs`) the conversation was started with. */
  inputs: z.record(z.string(), z.unknown()),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});

export const messageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  fileIds: z.array(z.string()),
  status: messageStatusSchema,
  usage: usageSchema.nullable(),
  citations: z.array(citationSchema),
  error: z.string().nullable(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});

export const fileSchema = z.object({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  size: z.number().int().nonnegative(),
  mimeType: z.string(),
  sha256: z.string(),
  originKind: z.enum(['path', 'upload']),
  origin: z.string(),
  hasText: z.boolean(),
  createdAt: isoDateSchema,
});

export const agentSchema = z.object({
  id: z.string(),
  type: z.enum(['local', 'dify', 'openai']),
  description: z.string(),
  isDefault: z.boolean(),
});

export type Conversation = z.infer<typeof conversationSchema>;
export type Message = z.infer<typeof messageSchema>;
export type MessageStatus = z.infer<typeof messageStatusSchema>;
export type FileInfo = z.infer<typeof fileSchema>;
export type AgentDescriptor = z.infer<typeof agentSchema>;
export type Usage = z.infer<typeof usageSchema>;
export type Citation = z.infer<typeof citationSchema>;
