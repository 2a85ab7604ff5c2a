import { z } from 'zod';
import {
  conversationListQuerySchema,
  conversationListSchema,
  converseBlockingResponseSchema,
  converseRequestSchema,
  deleteConvRequestSchema,
  deleteConvResponseSchema,
  errorBodySchema,
  fileUploadFormSchema,
  healthSchema,
  readinessSchema,
  restSchemas,
  stopConverseRequestSchema,
  stopConverseResponseSchema,
  streamEventWireSchema,
  uploadFilesRequestSchema,
  uploadFilesResponseSchema,
} from '../rest/schemas.ts';
import { clientListQuerySchema, clientListSchema } from '../rest/client-list.ts';

type Json = Record<string, unknown>;
type Method = 'get' | 'post' | 'delete' | 'put' | 'patch';

interface ResponseDoc {
  description: string;
  /** application/json body. */
  json?: z.ZodType;
  /** application/x-ndjson: one of these per line. */
  ndjson?: z.ZodType;
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
  /** A JSON body; `multipart` is a multipart/form-data one. */
  body?: z.ZodType;
  multipart?: z.ZodType;
  responses: Record<number, ResponseDoc>;
}

const errorResponse = (description: string): ResponseDoc => ({ description, json: errorBodySchema });

/** Every REST route the server registers (the test checks this against the Express app). */
export const restRoutes: RouteDoc[] = [
  {
    method: 'get',
    path: '/get_conversation_list',
    tag: 'Conversations',
    summary: 'List conversations',
    description: 'One page, most recently used first. Without API keys and without `user`: every user’s conversations.',
    query: conversationListQuerySchema,
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
    query: z.object({ conversation_id: z.string().optional(), user: z.string().optional() }),
    body: deleteConvRequestSchema,
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
    body: uploadFilesRequestSchema,
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
    query: z.object({ user: z.string().optional() }),
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
    body: converseRequestSchema,
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
    body: stopConverseRequestSchema,
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
    query: clientListQuerySchema,
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
      'An HTML page that draws the frames a publishing client sends on a canvas. The page holds no data and needs no key; its WebSocket (`/live/ws`) is authenticated.',
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

function parametersOf(query: z.ZodObject): Json[] {
  return Object.entries(query.shape).map(([name, field]) => {
    const schema = schemaOf(field as z.ZodType, 'input');
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: !(field as z.ZodType).safeParse(undefined).success,
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
  const parameters = [...pathParams, ...(route.query ? parametersOf(route.query) : [])];
  if (parameters.length > 0) op.parameters = parameters;
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
  for (const route of restRoutes) (paths[route.path] ??= {})[route.method] = operationOf(route);
  const open = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']);
  if (options.apiKeys) {
    for (const route of restRoutes) {
      if (open.has(route.path)) (paths[route.path] as Record<string, Json>)[route.method]!.security = [];
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Colloquy REST API',
      version: options.version,
      description:
        'The REST compatibility layer of the Colloquy gateway (the seed’s Flask routes, Dify-shaped), plus uploads and operations routes. The typed tRPC API at /trpc (used by the SDK) is not described here. Every error is `{message, error}` JSON. Every response carries `X-Request-Id` (the client’s, when it sent a valid one).',
    },
    tags: [
      { name: 'Conversations' },
      { name: 'Files' },
      { name: 'Chat' },
      { name: 'Clients', description: 'Connected clients (presence) and live video.' },
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
