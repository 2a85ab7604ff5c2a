import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { listRoutes } from '../src/http/route-list.ts';
import { restRoutes } from '../src/openapi/document.ts';
import { restFields } from '../src/rest/parse-rest.ts';
import {
  conversationListSchema,
  converseBlockingResponseSchema,
  deleteConvResponseSchema,
  healthSchema,
  readinessSchema,
  streamEventWireSchema,
  uploadFilesResponseSchema,
} from '../src/rest/schemas.ts';
import { converse, converseStreaming, listConversations, uploadPaths, type Json } from './support/http-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';

/** The value parses and nothing is dropped: the response has no field the schema lacks. */
function expectMatches(schema: z.ZodType, value: unknown): void {
  const parsed = schema.safeParse(value);
  expect(parsed.success, JSON.stringify(parsed.error?.issues ?? [])).toBe(true);
  expect(parsed.data).toEqual(value);
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: Json;
  beforeAll(async () => {
    server = await startTestServer();
    server.writeInbox('a.txt', 'Alpha beta gamma, the first three letters.');
    const res = await requestJson(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = res.body;
  });
  afterAll(() => server.dispose());

  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
  });

  it('lists exactly the fields each REST route accepts (query parameters, JSON body)', () => {
    const components = (doc.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    const paths = doc.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: { $ref?: string; properties?: Record<string, unknown> } }> } }>>;
    const parsed = restRoutes.filter((r) => r.request);
    expect(parsed.map((r) => r.path).sort()).toEqual(['/converse', '/delete_conv', '/get_client_list', '/get_conversation_list', '/stop_converse', '/upload_files']);
    for (const route of parsed) {
      const request = route.request!;
      const accepted = Object.keys(request.schema.shape).sort();
      // What the handler reads from each place (parseRest's own reading of a request).
      const fromQuery = Object.keys(restFields(request, { query: Object.fromEntries(accepted.map((k) => [k, 'x'])), body: {} } as never));
      const fromBody = Object.keys(restFields(request, { query: {}, body: Object.fromEntries(accepted.map((k) => [k, 'x'])) } as never));
      const op = paths[route.path]![route.method]!;
      const queryDocs = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      expect(queryDocs.sort(), `${route.path} query parameters`).toEqual(fromQuery.filter((k) => accepted.includes(k)).sort());
      const body = op.requestBody?.content['application/json']?.schema;
      const bodyProps = body?.$ref ? components[body.$ref.split('/').pop()!]?.properties : body?.properties;
      expect(Object.keys(bodyProps ?? {}).sort(), `${route.path} body`).toEqual(request.from === 'body' ? fromBody.sort() : []);
      // `user_id` is accepted wherever `user` is, and documented with it.
      expect(accepted, route.path).toEqual(expect.arrayContaining(['user', 'user_id']));
    }
  });

  it('resolves every $ref to a component', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      expect(m, ref).not.toBeNull();
      expect(doc.components.schemas[m![1]!], ref).toBeDefined();
    }
    expect(doc.components.schemas.ErrorBody).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' }, error: { type: 'string' } },
      required: ['message', 'error'],
    });
  });

  it('lists exactly the REST routes the Express app registers', () => {
    // The running app's router stack is the truth.
    const registered = listRoutes(server.app)
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(registered);
    for (const route of ['GET /get_conversation_list', 'DELETE /delete_conv', 'POST /upload_files', 'POST /converse', 'POST /files', 'GET /healthz', 'GET /readyz', 'GET /metrics']) {
      expect(documented).toContain(route);
    }
  });

  it('documents both converse answers and the multipart upload', () => {
    const converseOk = doc.paths['/converse'].post.responses['200'].content;
    expect(converseOk['application/json'].schema.$ref).toBe('#/components/schemas/ConverseBlockingResponse');
    expect(converseOk['application/x-ndjson'].schema.$ref).toBe('#/components/schemas/StreamEvent');
    const upload = doc.paths['/files'].post;
    expect(upload.requestBody.content['multipart/form-data'].schema.$ref).toBe('#/components/schemas/FileUploadForm');
    expect(doc.components.schemas.FileUploadForm.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(upload.responses['413'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBody');
  });

  it('documents the OpenAI and Dify surfaces with their own error shapes', () => {
    const completions = doc.paths['/v1/chat/completions'].post;
    expect(completions.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/OpenAIChatCompletionRequest');
    expect(completions.responses['200'].content['text/event-stream'].schema.$ref).toBe('#/components/schemas/OpenAIChatCompletionChunk');
    expect(completions.responses['404'].content['application/json'].schema.$ref).toBe('#/components/schemas/OpenAIError');
    // The request schema is strict: the document says so, as the route refuses unknown arguments.
    expect(doc.components.schemas.OpenAIChatCompletionRequest.additionalProperties).toBe(false);
    expect(Object.keys(doc.components.schemas.OpenAIChatCompletionRequest.properties)).toEqual(expect.arrayContaining(['model', 'messages', 'stream', 'stream_options', 'temperature']));
    expect(doc.components.schemas.OpenAIChatCompletionRequest.properties.tools).toBeUndefined();
    const chat = doc.paths['/v1/chat-messages'].post;
    expect(chat.responses['200'].content['text/event-stream'].schema.$ref).toBe('#/components/schemas/DifyChatMessageEvent');
    expect(chat.responses['404'].content['application/json'].schema.$ref).toBe('#/components/schemas/DifyError');
    expect(doc.paths['/v1/files/upload'].post.requestBody.content['multipart/form-data'].schema.$ref).toBe('#/components/schemas/DifyFileUploadForm');
    expect(doc.paths['/v1/messages'].get.parameters.map((p: Json) => p.name)).toEqual(['conversation_id', 'user', 'first_id', 'limit']);
  });

  it('describes what the routes actually answer', async () => {
    const up = await uploadPaths(server.url, ['a.txt'], { user: 'doc' });
    expectMatches(uploadFilesResponseSchema, up.body);

    const form = new FormData();
    form.append('file', new Blob(['Delta epsilon.']), 'b.txt');
    const multipart = await fetch(`${server.url}/files?user=doc`, { method: 'POST', body: form });
    expectMatches(uploadFilesResponseSchema, await multipart.json());

    const blocking = await converse(server.url, { query: 'alpha beta?', files: ['a.txt'], user: 'doc' });
    expectMatches(converseBlockingResponseSchema, blocking.body);

    const streaming = await converseStreaming(server.url, { query: 'gamma?', user: 'doc', response_mode: 'streaming' });
    expect(streaming.events.length).toBeGreaterThan(1);
    for (const event of streaming.events) expectMatches(streamEventWireSchema, event);

    const list = await listConversations(server.url, { user: 'doc' });
    expectMatches(conversationListSchema, list.body);

    const del = await requestJson(`${server.url}/delete_conv`, { method: 'DELETE', body: { conversation_id: (list.body as Json).data[0].id } });
    expectMatches(deleteConvResponseSchema, del.body);

    expectMatches(healthSchema, (await requestJson(`${server.url}/healthz`)).body);
    expectMatches(readinessSchema, (await requestJson(`${server.url}/readyz`)).body);
  });

  it('serves the docs page and the renderer from this server, not a CDN', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(['/docs/assets/scalar.js', '/docs/assets/init.js']);
    for (const src of scripts) {
      const res = await fetch(`${server.url}${src}`);
      expect(res.status, src).toBe(200);
      expect(res.headers.get('content-type'), src).toMatch(/javascript/);
      expect((await res.text()).length, src).toBeGreaterThan(50);
    }
    const init = await (await fetch(`${server.url}/docs/assets/init.js`)).text();
    expect(init).toContain('/openapi.json');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});
