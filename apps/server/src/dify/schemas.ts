import { difyUsageSchema, messageStatusSchema, retrieverResourceSchema, userIdSchema } from '@colloquy/api';
import { z } from 'zod';
import { restSchemas } from '../rest/schemas.ts';

/**
 * Dify's Service API (Chat App) wire shapes, as far as this server speaks them. The request
 * schemas are what the routes parse with and what /openapi.json shows. Unknown fields are
 * ignored, as Dify ignores them.
 */
const named = <T extends z.ZodType>(schema: T, id: string, description?: string): T => {
  restSchemas.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const unixSeconds = z.number().int().describe('Unix time in seconds');
const userField = userIdSchema.describe('The end user (with an app key: a user of the key’s own namespace; with a user key: its own user)');
const limitField = (def: number) => z.coerce.number().int().min(1).max(100).default(def);

export const difyFileRefSchema = z.object({
  type: z.enum(['document', 'image', 'audio', 'video', 'custom']).optional(),
  transfer_method: z.enum(['local_file', 'remote_url']),
  upload_file_id: z.string().min(1).max(4096).optional().describe('From POST /v1/files/upload (or any stored file id)'),
  url: z.string().optional().describe('remote_url files are refused (upload them instead)'),
});

export const chatMessageRequestSchema = named(
  z.object({
    query: z.string().trim().min(1, 'query is required').describe('The question'),
    inputs: z.record(z.string(), z.unknown()).nullish().transform((v) => v ?? {}).describe('App inputs: kept with a new conversation (a continued one keeps its own) and sent to a Dify upstream'),
    response_mode: z.enum(['blocking', 'streaming']).default('blocking'),
    user: userField.optional(),
    conversation_id: z
      .string()
      .max(128)
      .nullish()
      .describe('Continue this conversation (404 when it does not exist); empty or absent starts a new one'),
    files: z.array(difyFileRefSchema).max(1000).nullish().describe('dify-client sends null for none'),
    auto_generate_name: z.boolean().optional().describe('Accepted; a new conversation is always named from its first question'),
  }),
  'DifyChatMessageRequest',
  'Dify’s POST /chat-messages. The agent is the default one, or the one the X-Colloquy-Agent header names.',
);

export const chatMessageEventSchema = named(
  z.object({
    event: z.enum(['message', 'agent_thought', 'message_file', 'message_replace', 'message_end', 'error', 'ping']),
    task_id: z.string().optional().describe('The answer’s message id: stop it with POST /v1/chat-messages/{task_id}/stop'),
    id: z.string().optional(),
    message_id: z.string().optional(),
    conversation_id: z.string().optional(),
    answer: z.string().optional(),
    created_at: unixSeconds.optional(),
    metadata: z.object({ usage: difyUsageSchema.nullable(), retriever_resources: z.array(retrieverResourceSchema) }).optional(),
  }),
  'DifyChatMessageEvent',
  'One `data:` event of a streamed answer (text/event-stream), Dify’s event model; `message_end` is last.',
);

export const stopRequestSchema = named(z.object({ user: userField.optional() }), 'DifyStopRequest');
export const resultSchema = named(z.object({ result: z.literal('success') }), 'DifyResult');

export const conversationListQuerySchema = z.object({
  user: userField.optional(),
  last_id: z.string().max(128).optional().describe('The last conversation of the previous page'),
  first_id: z.string().max(128).optional().describe('Alias of last_id (what dify-client sends)'),
  limit: limitField(20),
  sort_by: z.enum(['-updated_at'], { error: 'only sort_by=-updated_at is supported' }).optional(),
  pinned: z.enum(['true', 'false']).optional().describe('No conversation is pinned here: true lists none'),
});

export const conversationByIdBodySchema = named(z.object({ user: userField.optional() }), 'DifyUserBody');

export const renameRequestSchema = named(
  z
    .object({
      name: z.string().trim().min(1).max(200).optional(),
      auto_generate: z.boolean().optional().describe('Name it from its first question'),
      user: userField.optional(),
    })
    .refine((v) => v.name !== undefined || v.auto_generate === true, { message: 'give a name, or auto_generate: true', path: ['name'] }),
  'DifyRenameRequest',
);

export const messagesQuerySchema = z.object({
  conversation_id: z.string().min(1, 'conversation_id is required').max(128),
  user: userField.optional(),
  first_id: z.string().max(128).optional().describe('The first message of the current page: the page before it'),
  limit: limitField(20),
});

export const difyMessageSchema = named(
  z.object({
    id: z.string().describe('The answer’s message id'),
    conversation_id: z.string(),
    inputs: z.record(z.string(), z.unknown()),
    query: z.string(),
    answer: z.string(),
    message_files: z.array(z.object({ id: z.string(), type: z.string(), url: z.string(), belongs_to: z.enum(['user', 'assistant']) })),
    feedback: z.null(),
    retriever_resources: z.array(retrieverResourceSchema),
    agent_thoughts: z.array(z.unknown()),
    created_at: unixSeconds,
    status: messageStatusSchema.describe('Colloquy: complete, stopped, error, interrupted or streaming'),
    error: z.string().nullable(),
  }),
  'DifyMessage',
  'One question and its answer.',
);
export type DifyMessage = z.infer<typeof difyMessageSchema>;

export const messageListSchema = named(
  z.object({ limit: z.number().int(), has_more: z.boolean(), data: z.array(difyMessageSchema) }),
  'DifyMessageList',
  'One page of a conversation’s messages, oldest first; the next page (earlier messages) is `first_id` = data[0].id.',
);

export const uploadFormSchema = named(
  z.object({ file: z.file(), user: userField.optional() }),
  'DifyFileUploadForm',
  'multipart/form-data: one `file` part (at most MAX_FILE_BYTES) and `user`.',
);

export const uploadedFileSchema = named(
  z.object({
    id: z.string().describe('Send it as `upload_file_id` in `files` of a chat message'),
    name: z.string(),
    size: z.number().int(),
    extension: z.string(),
    mime_type: z.string(),
    created_by: z.string(),
    created_at: unixSeconds,
  }),
  'DifyUploadedFile',
);
export type UploadedFile = z.infer<typeof uploadedFileSchema>;

export const parametersSchema = named(
  z.object({
    opening_statement: z.string(),
    suggested_questions: z.array(z.string()),
    suggested_questions_after_answer: z.object({ enabled: z.boolean() }),
    speech_to_text: z.object({ enabled: z.boolean() }),
    text_to_speech: z.object({ enabled: z.boolean() }),
    retriever_resource: z.object({ enabled: z.boolean() }),
    annotation_reply: z.object({ enabled: z.boolean() }),
    more_like_this: z.object({ enabled: z.boolean() }),
    sensitive_word_avoidance: z.object({ enabled: z.boolean() }),
    user_input_form: z.array(z.unknown()),
    file_upload: z.object({
      image: z.object({ enabled: z.boolean(), number_limits: z.number().int(), transfer_methods: z.array(z.string()) }),
    }),
    system_parameters: z.object({
      file_size_limit: z.number().int().describe('MB'),
      image_file_size_limit: z.number().int(),
      audio_file_size_limit: z.number().int(),
      video_file_size_limit: z.number().int(),
    }),
  }),
  'DifyParameters',
  'The app’s parameters: no input form, no opening statement; files up to MAX_FILE_BYTES.',
);
export type Parameters = z.infer<typeof parametersSchema>;

export const metaSchema = named(z.object({ tool_icons: z.record(z.string(), z.unknown()) }), 'DifyMeta');

export const difyErrorSchema = named(
  z.object({
    code: z.string().describe('invalid_param, unauthorized, forbidden, not_found, no_file_uploaded, file_too_large, too_many_requests, internal_server_error, …'),
    message: z.string(),
    status: z.number().int(),
  }),
  'DifyError',
  'Every error of the Dify routes (Dify’s shape).',
);
