import { userIdSchema } from '@colloquy/api';
import { z } from 'zod';
import { restSchemas } from '../rest/schemas.ts';

/**
 * OpenAI's Chat Completions wire shapes, as far as this server speaks them. The request schema
 * is what the route parses with (strict, as OpenAI is: an unknown argument is a 400 naming it)
 * and what /openapi.json shows; the responses are built through the types below.
 */
const named = <T extends z.ZodType>(schema: T, id: string, description?: string): T => {
  restSchemas.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const TEXT_ONLY = 'only text content parts are supported (no images, audio or files)';

const textPartSchema = z.object({ type: z.literal('text', { error: TEXT_ONLY }), text: z.string() }).strict();
const contentSchema = z.union([z.string(), z.array(textPartSchema)], { error: `content must be a string or text parts; ${TEXT_ONLY}` });
const nameField = z.string().max(256).optional();

const messageSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.literal('system'), content: contentSchema, name: nameField }).strict(),
    z.object({ role: z.literal('developer'), content: contentSchema, name: nameField }).strict(),
    z.object({ role: z.literal('user'), content: contentSchema, name: nameField }).strict(),
    z
      .object({
        role: z.literal('assistant'),
        content: contentSchema.nullable().optional(),
        name: nameField,
        refusal: z.string().nullable().optional(),
      })
      .strict(),
  ],
  { error: 'role must be system, developer, user or assistant (tool and function messages are not supported)' },
);

/** Accepted and passed on: these decide what the server does. */
const used = {
  model: z.string().min(1).max(64).describe('The agent id (see GET /v1/models)'),
  messages: z
    .array(messageSchema)
    .min(1)
    .max(10_000)
    .describe('The history, oldest first; the last message must be the user’s question. Earlier messages (system ones included) go to the agent as history.'),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .object({ include_usage: z.boolean().optional() })
    .strict()
    .nullable()
    .optional()
    .describe('`include_usage`: a last chunk with `usage` and no choices'),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .nullable()
    .optional()
    .describe('`conversation_id` continues (or creates) that stored conversation, as the X-Colloquy-Conversation header does'),
  user: userIdSchema.optional().describe('The user to act for (an app key’s end user)'),
};

/**
 * Accepted and ignored by design: sampling and output controls belong to the agent's own
 * configuration (a Dify app, the upstream model's settings), which is what several clients
 * share; the agent interface has no per-request sampling. Documented in the README.
 */
const ignored = {
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  store: z.boolean().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  reasoning_effort: z.string().nullable().optional(),
  verbosity: z.string().nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  n: z.literal(1, { error: 'only n=1 is supported (one answer per request)' }).nullable().optional(),
  logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullable().optional(),
  modalities: z.array(z.literal('text', { error: 'only the text modality is supported (no audio output)' })).nullable().optional(),
  response_format: z
    .object({ type: z.literal('text', { error: 'only response_format {"type":"text"} is supported' }) })
    .strict()
    .nullable()
    .optional(),
};

export const chatCompletionRequestSchema = named(
  z.object({ ...used, ...ignored }).strict(),
  'OpenAIChatCompletionRequest',
  'OpenAI’s Create chat completion request, as far as it is supported. `temperature`, `top_p`, `max_tokens`, `max_completion_tokens`, penalties, `stop`, `seed`, `logit_bias`, `store`, `service_tier`, `reasoning_effort`, `verbosity` and `parallel_tool_calls` are accepted and ignored (the agent’s configuration decides). Any other argument — `tools`, `functions`, `audio`, `n` > 1, image/audio/file content — is a 400 naming it.',
);
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

/** Known OpenAI arguments this server refuses, with why (any other unknown one is refused too). */
export const UNSUPPORTED_ARGUMENTS: Record<string, string> = {
  tools: 'tools (function calling) are not supported: the agent decides which tools it uses',
  tool_choice: 'tool_choice is not supported: the agent decides which tools it uses',
  functions: 'functions (function calling) are not supported',
  function_call: 'function_call is not supported',
  audio: 'audio output is not supported',
  top_logprobs: 'logprobs are not supported',
  prediction: 'predicted outputs are not supported',
  web_search_options: 'web search options are not supported',
};

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

const idsFields = {
  conversation_id: z.string().describe('Colloquy: the stored conversation (also the X-Colloquy-Conversation header)'),
  message_id: z.string().describe('Colloquy: the stored answer (also the X-Colloquy-Message header)'),
};

export const chatCompletionSchema = named(
  z.object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
        logprobs: z.null(),
        finish_reason: z.literal('stop'),
      }),
    ),
    usage: usageSchema,
    system_fingerprint: z.null(),
    ...idsFields,
  }),
  'OpenAIChatCompletion',
  'A blocking answer, plus the stored conversation and message ids.',
);
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

export const chatCompletionChunkSchema = named(
  z.object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
        logprobs: z.null(),
        finish_reason: z.literal('stop').nullable(),
      }),
    ),
    usage: usageSchema.nullable().optional().describe('With stream_options.include_usage: null on every chunk but the last, which has no choices'),
    system_fingerprint: z.null(),
    ...idsFields,
  }),
  'OpenAIChatCompletionChunk',
  'One `data:` event of a streamed answer (`text/event-stream`); the stream ends with `data: [DONE]`.',
);
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

export const modelSchema = named(
  z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() }),
  'OpenAIModel',
  'One agent, as a model: `model` in a request picks it.',
);
export type Model = z.infer<typeof modelSchema>;
export const modelListSchema = named(z.object({ object: z.literal('list'), data: z.array(modelSchema) }), 'OpenAIModelList');

export const openaiErrorSchema = named(
  z.object({
    error: z.object({
      message: z.string(),
      type: z.string().describe('invalid_request_error, requests (429), server_error'),
      param: z.string().nullable().describe('The request field at fault, when one is'),
      code: z.string().nullable().describe('invalid_api_key, model_not_found, unknown_parameter, unsupported_parameter, rate_limit_exceeded, …'),
    }),
  }),
  'OpenAIError',
  'Every error of the /v1/chat/completions and /v1/models routes (OpenAI’s shape).',
);
