import { z } from 'zod';
import type { RestRequestDoc } from '../rest/parse-rest.ts';
import {
  conversationListRequest,
  conversationListSchema,
  difyConversationSchema,
  converseBlockingResponseSchema,
  converseRequest,
  deleteConvRequest,
  deleteConvResponseSchema,
  errorBodySchema,
  fileUploadFormSchema,
  healthSchema,
  readinessSchema,
  restSchemas,
  stopConverseRequest,
  stopConverseResponseSchema,
  streamEventWireSchema,
  uploadFilesRequest,
  uploadFilesResponseSchema,
  userFields,
} from '../rest/schemas.ts';
import { clientListRequest, clientListSchema } from '../rest/client-list.ts';
import {
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  modelListSchema,
  modelSchema,
  openaiErrorSchema,
} from '../openai/schemas.ts';
import {
  chatMessageEventSchema,
  chatMessageRequestSchema,
  conversationByIdBodySchema,
  conversationListQuerySchema as difyConversationListQuerySchema,
  difyErrorSchema,
  messageListSchema,
  messagesQuerySchema,
  metaSchema,
  parametersSchema,
  renameRequestSchema,
  resultSchema,
  stopRequestSchema,
  uploadedFileSchema,
  uploadFormSchema,
} from '../dify/schemas.ts';

type Json = Record<string, unknown>;
type Method = 'get' | 'post' | 'delete' | 'put' | 'patch';

interface ResponseDoc {
  description: string;
  /** application/json body. */
  json?: z.ZodType;
  /** application/x-ndjson: one of these per line. */
  ndjson?: z.ZodType;
  /** text/event-stream: one of these per `data:` event. */
  sse?: z.ZodType;
  /** text/plain or text/html body. */
  text?: { type: string; example?: string };
}

/** One REST route. The OpenAPI document's paths are made from this table alone. */
export interface RouteDoc {
  method: Method;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  /**
   * A REST route's request, as its handler parses it (parseRest): its fields become the query
   * parameters (GET) or the JSON body and the query parameters the body's fields may also be.
   */
  request?: RestRequestDoc;
  /** A JSON body; `multipart` is a multipart/form-data one. */
  body?: z.ZodType;
  multipart?: z.ZodType;
  responses: Record<number, ResponseDoc>;
}

const errorResponse = (description: string): ResponseDoc => ({ description, json: errorBodySchema });
const openaiError = (description: string): ResponseDoc => ({ description, json: openaiErrorSchema });
const difyError = (description: string): ResponseDoc => ({ description, json: difyErrorSchema });
/** The refusals every OpenAI and Dify route may answer besides its own. */
const familyRefusals = (error: (d: string) => ResponseDoc): Record<number, ResponseDoc> => ({
  401: error('Missing or wrong API key'),
  429: error('Too many requests, streams or running generations (Retry-After)'),
});

/** OpenAI's Chat Completions and Models (issue 15): `model` is an agent id. */
const openaiRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/chat/completions',
    tag: 'OpenAI',
    summary: 'Create a chat completion (OpenAI)',
    description:
      'The last message is the question; earlier ones (system messages included) go to the agent as history. Stored as a conversation turn: `X-Colloquy-Conversation` (or `metadata.conversation_id`) continues that conversation, else a new one is started. The answer names the conversation and message in `X-Colloquy-Conversation` / `X-Colloquy-Message` and in `conversation_id` / `message_id`. `stream: true` answers chat.completion.chunk events and `data: [DONE]`. A client that disconnects does not stop the answer.',
    body: chatCompletionRequestSchema,
    responses: {
      200: { description: 'Blocking: the completion. Streaming: chunks.', json: chatCompletionSchema, sse: chatCompletionChunkSchema },
      400: openaiError('A bad or unsupported argument (`param` names it; code unknown_parameter / unsupported_parameter)'),
      403: openaiError('A user key named another user'),
      404: openaiError('No such model (code model_not_found)'),
      413: openaiError('Question or body too large'),
      ...familyRefusals(openaiError),
      500: openaiError('The agent failed (code upstream_error)'),
    },
  },
  {
    method: 'get',
    path: '/v1/models',
    tag: 'OpenAI',
    summary: 'List models (OpenAI): one per agent',
    responses: { 200: { description: 'The agents', json: modelListSchema }, ...familyRefusals(openaiError) },
  },
  {
    method: 'get',
    path: '/v1/models/{model}',
    tag: 'OpenAI',
    summary: 'Retrieve a model (OpenAI)',
    responses: { 200: { description: 'The agent', json: modelSchema }, 404: openaiError('No such model'), ...familyRefusals(openaiError) },
  },
];

/** Dify's Service API (Chat App). The agent: the default, or the X-Colloquy-Agent header's. */
const difyRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/chat-messages',
    tag: 'Dify',
    summary: 'Send a chat message (Dify)',
    description:
      '`response_mode: "blocking"` (default) answers one object when the turn ends; `"streaming"` answers Dify’s SSE events (`message`, `agent_thought`, `message_file`, `message_replace`, `error`, `ping`, then `message_end`). No `conversation_id` starts a new conversation; an unknown one is a 404. A client that disconnects does not stop the answer; `/v1/chat-messages/{task_id}/stop` does.',
    body: chatMessageRequestSchema,
    responses: {
      200: { description: 'Blocking: the answer. Streaming: events.', json: converseBlockingResponseSchema, sse: chatMessageEventSchema },
      400: difyError('A bad field (code invalid_param), an unknown file, or an app key without `user`'),
      403: difyError('A user key named another user'),
      404: difyError('No such conversation for this user (code not_found)'),
      413: difyError('Question, files or body too large'),
      ...familyRefusals(difyError),
      500: difyError('The agent failed (code completion_request_error)'),
    },
  },
  {
    method: 'post',
    path: '/v1/chat-messages/{task_id}/stop',
    tag: 'Dify',
    summary: 'Stop a streaming answer (Dify)',
    description: '`task_id` is the answer’s message id. The upstream call is aborted; the partial answer is stored as `stopped`.',
    body: stopRequestSchema,
    responses: { 200: { description: 'Stopped', json: resultSchema }, 404: difyError('No such answer for this user'), ...familyRefusals(difyError) },
  },
  {
    method: 'get',
    path: '/v1/conversations',
    tag: 'Dify',
    summary: 'List conversations (Dify)',
    query: difyConversationListQuerySchema,
    responses: { 200: { description: 'A page, most recently used first', json: conversationListSchema }, 400: difyError('A bad parameter'), ...familyRefusals(difyError) },
  },
  {
    method: 'delete',
    path: '/v1/conversations/{id}',
    tag: 'Dify',
    summary: 'Delete a conversation (Dify)',
    query: conversationByIdBodySchema,
    body: conversationByIdBodySchema,
    responses: { 200: { description: 'Deleted', json: resultSchema }, 404: difyError('No such conversation for this user'), ...familyRefusals(difyError) },
  },
  {
    method: 'post',
    path: '/v1/conversations/{id}/name',
    tag: 'Dify',
    summary: 'Rename a conversation (Dify)',
    description: '`auto_generate: true` names it from its first question.',
    body: renameRequestSchema,
    responses: {
      200: { description: 'The renamed conversation', json: difyConversationSchema },
      400: difyError('Neither a name nor auto_generate'),
      404: difyError('No such conversation for this user'),
      ...familyRefusals(difyError),
    },
  },
  {
    method: 'get',
    path: '/v1/messages',
    tag: 'Dify',
    summary: 'A conversation’s messages (Dify)',
    description: 'Question-and-answer pairs, the latest page first; pass `first_id` = the page’s first id for the page before it.',
    query: messagesQuerySchema,
    responses: {
      200: { description: 'A page of messages, oldest first', json: messageListSchema },
      400: difyError('conversation_id missing or a bad parameter'),
      404: difyError('No such conversation, or first_id is not one of its messages'),
      ...familyRefusals(difyError),
    },
  },
  {
    method: 'post',
    path: '/v1/files/upload',
    tag: 'Dify',
    summary: 'Upload a file (Dify)',
    multipart: uploadFormSchema,
    responses: {
      201: { description: 'Stored', json: uploadedFileSchema },
      400: difyError('No file part (code no_file_uploaded)'),
      413: difyError('Larger than MAX_FILE_BYTES (code file_too_large); nothing is stored'),
      ...familyRefusals(difyError),
    },
  },
  {
    method: 'get',
    path: '/v1/parameters',
    tag: 'Dify',
    summary: 'App parameters (Dify)',
    responses: { 200: { description: 'Minimal parameters', json: parametersSchema }, ...familyRefusals(difyError) },
  },
  {
    method: 'get',
    path: '/v1/meta',
    tag: 'Dify',
    summary: 'App meta (Dify)',
    responses: { 200: { description: 'No tool icons', json: metaSchema }, ...familyRefusals(difyError) },
  },
];

/** Every REST route the server registers (the test checks this against the Express app). */
export const restRoutes: RouteDoc[] = [
  {
    method: 'get',
    path: '/get_conversation_list',
    tag: 'Conversations',
    summary: 'List conversations',
    description: 'One page, most recently used first. Without API keys and without `user`: every user’s conversations.',
    request: conversationListRequest,
    responses: {
      200: { description: 'A page of conversations', json: conversationListSchema },
      400: errorResponse('Invalid parameter (message 获取对话列表失败)'),
      500: errorResponse('Listing failed (message 获取对话列表失败)'),
    },
  },
  {
    method: 'delete',
    path: '/delete_conv',
    tag: 'Conversations',
    summary: 'Delete a conversation',
    description: 'Deletes the conversation and its messages. `conversation_id` in the JSON body or the query string.',
    request: deleteConvRequest,
    responses: {
      200: { description: 'Deleted', json: deleteConvResponseSchema },
      400: errorResponse('conversation_id missing (message 对话删除失败)'),
      404: errorResponse('No such conversation for this user (message 对话删除失败)'),
      500: errorResponse('Deleting failed (message 对话删除失败)'),
    },
  },
  {
    method: 'post',
    path: '/upload_files',
    tag: 'Files',
    summary: 'Store files by server path',
    description:
      'Reads regular files inside the server’s UPLOAD_ROOTS (symlinks resolved; `..`, devices, directories and oversized files refused). All-or-nothing per batch.',
    request: uploadFilesRequest,
    responses: {
      200: { description: 'Stored (or already stored) files', json: uploadFilesResponseSchema },
      400: errorResponse('Missing or refused paths (message 请提供有效的文件路径列表)'),
      413: errorResponse('A file or the batch is too large'),
      500: errorResponse('Storing failed (message 文件上传失败)'),
    },
  },
  {
    method: 'post',
    path: '/files',
    tag: 'Files',
    summary: 'Upload a file (multipart)',
    description:
      'multipart/form-data with one `file` part. Streamed to disk while hashed and size-checked; stored content-addressed. The response has the same shape as /upload_files; `path` is the uploaded file’s name.',
    query: z.object(userFields),
    multipart: fileUploadFormSchema,
    responses: {
      200: { description: 'Stored file', json: uploadFilesResponseSchema },
      400: errorResponse('Not multipart, no `file` part, or a bad field (message 请提供要上传的文件)'),
      413: errorResponse('Larger than MAX_FILE_BYTES (message 文件过大); nothing is stored'),
      500: errorResponse('Storing failed (message 文件上传失败)'),
    },
  },
  {
    method: 'post',
    path: '/converse',
    tag: 'Chat',
    summary: 'Ask a question (one conversation turn)',
    description:
      '`response_mode: "blocking"` answers with one JSON object when the turn ends; `"streaming"` answers with NDJSON events (`Content-Type: application/x-ndjson`) as they arrive, ending with `message_end`. A client that disconnects does not stop the turn.',
    request: converseRequest,
    responses: {
      200: {
        description: 'Blocking: the answer. Streaming: one StreamEvent per line.',
        json: converseBlockingResponseSchema,
        ndjson: streamEventWireSchema,
      },
      400: errorResponse('No query (message 请提供查询内容) or another invalid field (message 对话请求出错)'),
      404: errorResponse('conversation_id belongs to another user (message 对话请求出错)'),
      413: errorResponse('Query too long or too many files'),
      429: errorResponse('Too many concurrent generations for this user'),
      500: errorResponse('The agent failed (message 对话请求出错)'),
    },
  },
  {
    method: 'post',
    path: '/stop_converse',
    tag: 'Chat',
    summary: 'Stop a running answer',
    description: 'Aborts the generation (and the upstream request); the partial text is stored with status `stopped`.',
    request: stopConverseRequest,
    responses: {
      200: { description: 'The message’s status after stopping', json: stopConverseResponseSchema },
      400: errorResponse('message_id missing'),
      404: errorResponse('No such message for this user'),
    },
  },
  {
    method: 'get',
    path: '/get_client_list',
    tag: 'Clients',
    summary: 'List connected clients',
    description:
      'The clients connected right now (SDK clients, consoles, video publishers) that the caller may see: its own user’s; every user’s for an admin key or, without API keys, when no `user` is named. Live video of a client that publishes is at `/live/{id}` (page) and `ws://…/live/ws?role=watch&clientId={id}` (frames).',
    request: clientListRequest,
    responses: {
      200: { description: 'The count and the clients', json: clientListSchema },
      403: errorResponse('A user key named another user (message 获取客户端列表失败)'),
      500: errorResponse('Listing failed (message 获取客户端列表失败)'),
    },
  },
  {
    method: 'get',
    path: '/live/{clientId}',
    tag: 'Clients',
    summary: 'Live video page of one client',
    description:
      'The web app’s page that draws the frames a publishing client sends on a canvas. The page holds no data and needs no key; its WebSocket (`/live/ws`) is authenticated (open it as `/live/{clientId}#token=KEY` with API keys).',
    responses: {
      200: { description: 'HTML page', text: { type: 'text/html' } },
      404: errorResponse('Not a client id'),
    },
  },
  {
    method: 'get',
    path: '/healthz',
    tag: 'Operations',
    summary: 'Liveness',
    description: 'Always 200 while the process serves HTTP.',
    responses: { 200: { description: 'Alive', json: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'Operations',
    summary: 'Readiness',
    description: '200 when the store answers and every agent is reachable (each checked with READINESS_TIMEOUT_MS); 503 otherwise and while shutting down.',
    responses: {
      200: { description: 'Ready', json: readinessSchema },
      503: { description: 'Not ready (same body)', json: readinessSchema },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text exposition format', text: { type: 'text/plain', example: '# HELP colloquy_active_streams …' } } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Operations',
    summary: 'This OpenAPI document',
    responses: { 200: { description: 'OpenAPI 3.1 document', text: { type: 'application/json' } } },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'Operations',
    summary: 'API reference page (renders this document)',
    responses: { 200: { description: 'HTML page', text: { type: 'text/html' } } },
  },
  // The web app's other pages (each its index.html: the app draws them; they hold no data).
  ...(
    [
      ['/', 'Web app: the chat (a new conversation)'],
      ['/c/{id}', 'Web app: one conversation'],
      ['/files', 'Web app: files'],
      ['/agents', 'Web app: agents'],
      ['/clients', 'Web app: connected clients'],
      ['/live', 'Web app: live video'],
    ] as const
  ).map(
    ([path, summary]): RouteDoc => ({
      method: 'get',
      path,
      tag: 'Operations',
      summary,
      description: 'The web app (apps/web). The page holds no data and needs no key; every call it makes is authenticated.',
      responses: { 200: { description: 'HTML page', text: { type: 'text/html' } }, 503: errorResponse('The web app is not built (run `pnpm build`)') },
    }),
  ),
];

const REF = (id: string) => `#/components/schemas/${id}`;

/** JSON Schema (2020-12, OpenAPI 3.1's dialect) of a schema: a $ref when it is a named component. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = restSchemas.get(schema)?.id;
  if (id) return { $ref: REF(id) };
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', metadata: restSchemas }) as Json;
  delete json.$schema;
  return json;
}

function parametersOf(query: z.ZodObject, optional = false, except: readonly string[] = []): Json[] {
  return Object.entries(query.shape).filter(([name]) => !except.includes(name)).map(([name, field]) => {
    const schema = schemaOf(field as z.ZodType, 'input');
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      // A body field given in the query instead is required in one of the two, not in the query.
      required: !optional && !(field as z.ZodType).safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function responseOf(doc: ResponseDoc): Json {
  const content: Json = {};
  if (doc.json) content['application/json'] = { schema: schemaOf(doc.json, 'output') };
  if (doc.ndjson) {
    // Newline-delimited JSON: each line is one object of this schema.
    content['application/x-ndjson'] = { schema: schemaOf(doc.ndjson, 'output') };
  }
  if (doc.sse) content['text/event-stream'] = { schema: schemaOf(doc.sse, 'output') };
  if (doc.text) content[doc.text.type] = { schema: { type: 'string', ...(doc.text.example ? { examples: [doc.text.example] } : {}) } };
  return { description: doc.description, ...(Object.keys(content).length ? { content } : {}) };
}

function operationOf(route: RouteDoc): Json {
  const op: Json = {
    operationId: `${route.method}${route.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    responses: Object.fromEntries(Object.entries(route.responses).map(([status, r]) => [status, responseOf(r)])),
  };
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const { request } = route;
  const requestParams = !request ? [] : request.from === 'query' ? parametersOf(request.schema) : parametersOf(request.schema, true, request.bodyOnly);
  const parameters = [...pathParams, ...(route.query ? parametersOf(route.query) : []), ...requestParams];
  if (parameters.length > 0) op.parameters = parameters;
  if (request?.from === 'body') op.requestBody = { required: false, content: { 'application/json': { schema: schemaOf(request.schema, 'input') } } };
  if (route.body) op.requestBody = { required: route.method !== 'delete', content: { 'application/json': { schema: schemaOf(route.body, 'input') } } };
  if (route.multipart) op.requestBody = { required: true, content: { 'multipart/form-data': { schema: schemaOf(route.multipart, 'input') } } };
  return op;
}

export interface OpenApiOptions {
  version: string;
  /** Whether routes need `Authorization: Bearer <key>` (API keys configured). */
  apiKeys: boolean;
}

/** The OpenAPI 3.1 document of the REST routes, generated from the zod schemas they answer with. */
export function buildOpenApiDocument(options: OpenApiOptions): Json {
  const components = z.toJSONSchema(restSchemas, {
    target: 'draft-2020-12',
    uri: REF,
    unrepresentable: 'any',
  }) as { schemas: Record<string, Json> };
  const schemas = Object.fromEntries(
    Object.entries(components.schemas).map(([id, s]) => {
      const { $schema: _drop, $id: _id, ...rest } = s;
      return [id, rest];
    }),
  );
  const paths: Record<string, Record<string, Json>> = {};
  const routes = [...restRoutes, ...openaiRouteDocs, ...difyRouteDocs];
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operationOf(route);
  const open = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']);
  if (options.apiKeys) {
    for (const route of routes) {
      if (open.has(route.path)) (paths[route.path] as Record<string, Json>)[route.method]!.security = [];
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Colloquy HTTP API',
      version: options.version,
      description:
        'The Colloquy gateway’s HTTP surfaces over one router: the REST compatibility layer (the seed’s Flask routes, Dify-shaped; errors `{message, error}`), OpenAI’s Chat Completions (`/v1/chat/completions`, `/v1/models`; errors `{error: {message, type, param, code}}`) and Dify’s Service API (the other `/v1` routes; errors `{code, message, status}`), plus uploads and operations routes. The typed tRPC API at /trpc (used by the SDK) is not described here. Every response carries `X-Request-Id` (the client’s, when it sent a valid one).',
    },
    tags: [
      { name: 'Conversations' },
      { name: 'Files' },
      { name: 'Chat' },
      { name: 'Clients', description: 'Connected clients (presence) and live video.' },
      { name: 'OpenAI', description: 'OpenAI-compatible: point the `openai` client’s baseURL at /v1. `model` is an agent id.' },
      { name: 'Dify', description: 'Dify Service API (Chat App): point a Dify client’s base URL at /v1. With an app key, `user` is an end user of the key’s own namespace.' },
      { name: 'Operations', description: 'Health, readiness, metrics and this document; never behind an API key.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS' } },
    },
    ...(options.apiKeys ? { security: [{ apiKey: [] }] } : {}),
  };
}
