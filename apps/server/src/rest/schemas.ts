import { extname } from 'node:path';
import {
  difyUsageSchema,
  messageStatusSchema,
  retrieverResourceSchema,
  toDifyMetadata,
  streamEventSchema,
  type Answer,
  type Conversation,
  type FileInfo,
  userIdSchema,
} from '@colloquy/api';
import { STORE_DRIVERS } from '@colloquy/store';
import { z } from 'zod';
import { restRequest } from './parse-rest.ts';

/**
 * The REST routes' wire shapes (the seed's and Dify's snake_case shapes), in one place. The
 * handlers build their responses through the typed converters below, and /openapi.json is
 * generated from these same schemas, so the document cannot drift from what is sent.
 */
export const restSchemas = z.registry<{ id: string; description?: string }>();

const named = <T extends z.ZodType>(schema: T, id: string, description?: string): T => {
  restSchemas.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const unixSeconds = z.number().int().describe('Unix time in seconds');

// ---- request fields -----------------------------------------------------------------------
// Each route's request is one schema (see RestRequest): its handler parses with it and the
// API document is made from it.

const text = (description?: string) => {
  const s = z.string({ error: 'must be a string' });
  return description ? s.describe(description) : s;
};
const requiredText = (description: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).describe(description);

/** `user`, alias `user_id` (access.ts's one rule), with the api's user-id schema. */
export const userFields = {
  user: userIdSchema.optional().describe('The user to act for (without API keys this is how users are told apart)'),
  user_id: userIdSchema.optional().describe('Alias of `user`'),
};

// ---- shared ---------------------------------------------------------------------------------

export const errorBodySchema = named(
  z.object({
    message: z.string().describe('What failed, in the seed’s (Chinese) wording'),
    error: z.string().describe('Why, in English'),
  }),
  'ErrorBody',
  'The one error body of every route: JSON, never HTML, never a stack trace.',
);
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ---- conversations ------------------------------------------------------------------------

export const difyConversationSchema = named(
  z.object({
    id: z.string(),
    name: z.string(),
    inputs: z.record(z.string(), z.unknown()),
    status: z.string(),
    introduction: z.string(),
    created_at: unixSeconds,
    updated_at: unixSeconds,
    user: z.string(),
    agent_id: z.string(),
    manager_id: z.string().nullable(),
  }),
  'Conversation',
  'A conversation in Dify’s list shape, plus `user`, `agent_id` and `manager_id`.',
);

export const conversationListRequest = restRequest({
  from: 'query',
  schema: z.object({
    ...userFields,
    limit: z.coerce.number().int().min(1).max(100).optional().describe('Page size (default 20)'),
    last_id: text('Id of the last conversation of the previous page').optional(),
    manager_id: text('Only conversations created with this manager_id').optional(),
  }),
});

export const conversationListSchema = named(
  z.object({ limit: z.number().int(), has_more: z.boolean(), data: z.array(difyConversationSchema) }),
  'ConversationList',
  'One page of conversations, most recently used first (Dify’s page shape).',
);

export const deleteConvRequest = restRequest({
  from: 'body',
  schema: named(
    z.object({ conversation_id: requiredText('The conversation to delete'), ...userFields }),
    'DeleteConversationRequest',
    'Each field may also be given in the query string.',
  ),
});
export const deleteConvResponseSchema = named(z.object({ message: z.literal('对话删除成功') }), 'DeleteConversationResponse');

export const toDifyConversation = (c: Conversation): z.infer<typeof difyConversationSchema> => ({
  id: c.id,
  name: c.name,
  inputs: c.inputs,
  status: 'normal',
  introduction: '',
  created_at: toUnixSeconds(c.createdAt),
  updated_at: toUnixSeconds(c.updatedAt),
  user: c.userId,
  agent_id: c.agentId,
  manager_id: c.managerId,
});

// ---- files --------------------------------------------------------------------------------

export const difyFileSchema = named(
  z.object({
    id: z.string(),
    name: z.string(),
    size: z.number().int().nonnegative(),
    extension: z.string(),
    mime_type: z.string(),
    created_by: z.string().describe('The owning user'),
    created_at: unixSeconds,
    sha256: z.string(),
    path: z.string().describe('What the file was stored from: its server path, or the uploaded file’s name'),
  }),
  'File',
  'A stored file in Dify’s upload-response shape; `id` or `path` names it in `files` of /converse.',
);

export const toDifyFile = (f: FileInfo): z.infer<typeof difyFileSchema> => ({
  id: f.id,
  name: f.name,
  size: f.size,
  extension: extname(f.name).replace(/^\./, ''),
  mime_type: f.mimeType,
  created_by: f.userId,
  created_at: toUnixSeconds(f.createdAt),
  sha256: f.sha256,
  path: f.origin,
});

export const uploadFilesRequest = restRequest({
  from: 'body',
  schema: named(
    z.object({
      file_paths: z
        .array(z.string({ error: 'must be a path string' }).min(1, 'must not be empty'), { error: 'must be a non-empty array of path strings' })
        .min(1, 'must be a non-empty array of path strings')
        .describe('Paths inside the server’s upload roots'),
      ...userFields,
    }),
    'UploadPathsRequest',
  ),
  bodyOnly: ['file_paths'],
  // Every 400 of this route is the contract's 请提供有效的文件路径列表.
  messages: { file_paths: '请提供有效的文件路径列表', user: '请提供有效的文件路径列表', user_id: '请提供有效的文件路径列表' },
});

export const uploadFilesResponseSchema = named(
  z.object({ message: z.literal('文件上传成功'), response: z.array(difyFileSchema) }),
  'UploadFilesResponse',
);
export type UploadFilesResponse = z.infer<typeof uploadFilesResponseSchema>;

export const fileUploadFormSchema = named(
  z.object({
    file: z.file().describe('The file; its file name is stored as its name'),
    user: userIdSchema.optional().describe('The user to store it for (also `user_id`, the `user` query parameter or X-Colloquy-User)'),
  }),
  'FileUploadForm',
  'multipart/form-data: one `file` part, streamed to disk (never held in memory), at most MAX_FILE_BYTES.',
);

// ---- converse -----------------------------------------------------------------------------

export const converseRequest = restRequest({
  from: 'body',
  schema: named(
    z.object({
      query: z
        .string({ error: 'query is required' })
        .refine((q) => q.trim() !== '', 'query is required')
        .describe('The question'),
      ...userFields,
      conversation_id: text('Continue (or create with this id) a conversation; default: the user’s current one').optional(),
      response_mode: z
        .enum(['blocking', 'streaming'], { error: 'must be "blocking" or "streaming"' })
        .optional()
        .describe('Default: DEFAULT_RESPONSE_MODE (blocking)'),
      files: z
        .array(
          z.union([z.string(), z.object({ upload_file_id: z.string() })], { error: 'must be a file id or path string' }),
          { error: 'must be an array' },
        )
        .optional()
        .describe('File ids or upload paths (or Dify’s `{upload_file_id}`)'),
      agent: text('Agent id (alias `agent_id`); default: the conversation’s, else DEFAULT_AGENT').optional(),
      agent_id: text('Alias of `agent`').optional(),
      manager_id: text('Opaque tag stored with a new conversation').optional(),
    }),
    'ConverseRequest',
    'Each field but `query` and `files` may also be given in the query string.',
  ),
  bodyOnly: ['query', 'files'],
  messages: { query: '请提供查询内容' },
});

export const converseBlockingResponseSchema = named(
  z.object({
    event: z.literal('message'),
    task_id: z.string(),
    id: z.string(),
    message_id: z.string(),
    conversation_id: z.string(),
    mode: z.literal('chat'),
    answer: z.string(),
    status: messageStatusSchema,
    metadata: z.object({ usage: difyUsageSchema.nullable(), retriever_resources: z.array(retrieverResourceSchema) }),
    created_at: unixSeconds,
  }),
  'ConverseBlockingResponse',
  'Dify’s blocking chat response.',
);

export const toBlockingResponse = (a: Answer): z.infer<typeof converseBlockingResponseSchema> => ({
  event: 'message',
  task_id: a.messageId,
  id: a.messageId,
  message_id: a.messageId,
  conversation_id: a.conversationId,
  mode: 'chat',
  answer: a.answer,
  status: a.status,
  metadata: toDifyMetadata(a.usage, a.citations),
  created_at: toUnixSeconds(a.createdAt),
});

export const streamEventWireSchema = named(
  streamEventSchema,
  'StreamEvent',
  'One line of a streaming answer (NDJSON): Dify’s event model. `id` is usable as lastEventId to re-attach.',
);

export const stopConverseRequest = restRequest({
  from: 'body',
  schema: named(
    z.object({ message_id: requiredText('The assistant message to stop'), ...userFields }),
    'StopConverseRequest',
    'Each field may also be given in the query string.',
  ),
});
export const stopConverseResponseSchema = named(
  z.object({
    message: z.string(),
    message_id: z.string(),
    status: messageStatusSchema,
  }),
  'StopConverseResponse',
);
export type StopConverseResponse = z.infer<typeof stopConverseResponseSchema>;

// ---- operations ---------------------------------------------------------------------------

export const healthSchema = named(z.object({ status: z.literal('ok') }), 'Health');

export const readinessSchema = named(
  z.object({
    status: z.enum(['ok', 'unavailable', 'draining']),
    instance: z.string().describe('The id of the instance that answered (its lease and turn-owner id)'),
    store: z.enum(['ok', 'unreachable']),
    storeDriver: z.enum(STORE_DRIVERS).describe('The library the store talks to its database through'),
    redis: z.enum(['ok', 'unreachable']).optional().describe('Present when REDIS_URL is set'),
    agents: z.record(z.string(), z.enum(['ok', 'unreachable'])).describe('Each configured agent by id'),
  }),
  'Readiness',
);
export type Readiness = z.infer<typeof readinessSchema>;

/** Unix seconds, as Dify and the seed's clients expect timestamps. */
export function toUnixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
