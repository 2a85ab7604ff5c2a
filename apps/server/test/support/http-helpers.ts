import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { readNdjson, requestJson, startTestServer, type TestServer } from './test-server.ts';

/** Parsed JSON bodies are checked field by field; `any` keeps those checks readable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export type JsonResponse = Awaited<ReturnType<typeof requestJson>>;

/** A fresh server for the enclosing describe block (started before its tests, disposed after). */
export function useServer(env: Record<string, string> = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(env);
  });
  afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('server not started');
    return server;
  };
}

/** DATA_DIR of a test server (the helper puts it under the server's temp dir). */
export const dataDirOf = (server: TestServer): string => join(server.dir, 'data');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const qs = (params: Record<string, string | number | undefined>): string => {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
};

/** POST /converse with a JSON body (blocking unless the body says otherwise). */
export const converse = (url: string, body: Record<string, unknown>) => requestJson(`${url}/converse`, { body });

/** POST /converse and read the NDJSON answer. */
export async function converseStreaming(url: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/converse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const events = res.status === 200 ? await readNdjson(res) : [];
  return { res, events: events as Json[] };
}

export const uploadPaths = (url: string, filePaths: unknown, extra: Record<string, unknown> = {}) =>
  requestJson(`${url}/upload_files`, { body: { file_paths: filePaths, ...extra } });

export const listConversations = (url: string, params: Record<string, string | number | undefined> = {}, headers: Record<string, string> = {}) =>
  requestJson(`${url}/get_conversation_list${qs(params)}`, { headers });

export const deleteConversation = (url: string, body: unknown, query: Record<string, string | undefined> = {}) =>
  requestJson(`${url}/delete_conv${qs(query)}`, body === undefined ? { method: 'DELETE' } : { method: 'DELETE', body });

/** A tRPC v11 query over plain HTTP GET (`?input=<JSON>`); the raw response. */
export const trpcGet = (url: string, path: string, input?: unknown, headers: Record<string, string> = {}) =>
  requestJson(`${url}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { headers });

/** A tRPC query's `result.data`, failing the test on any error response. */
export async function trpcQuery(url: string, path: string, input: unknown, headers: Record<string, string> = {}): Promise<Json> {
  const res = await trpcGet(url, path, input, headers);
  expect(res.status, `${path} → ${res.text.slice(0, 300)}`).toBe(200);
  return (res.body as Json).result.data;
}

/** The stored messages of a conversation (oldest first), read through tRPC (ids are per user: name it when several have one). */
export async function storedMessages(url: string, conversationId: string, user?: string, headers: Record<string, string> = {}): Promise<Json[]> {
  return (await trpcQuery(url, 'messages.list', { conversationId, limit: 100, ...(user ? { user } : {}) }, headers)).items;
}

/** Polls `check` until it returns a value (not undefined), failing after `timeoutMs`. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

/** Every stored file record (all users), read through tRPC. */
export async function storedFiles(url: string): Promise<Json[]> {
  return (await trpcQuery(url, 'files.list', { limit: 100 })).items;
}

/** Number of blob files under DATA_DIR/blobs (content-addressed: one per distinct content). */
export function countBlobs(dataDir: string): number {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return 0;
  let n = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else n += 1;
    }
  };
  walk(root);
  return n;
}

/** The concatenated `message` deltas of an NDJSON/SSE event list. */
export const answerOf = (events: Json[]): string =>
  events
    .filter((e) => e.event === 'message')
    .map((e) => e.answer as string)
    .join('');

/**
 * The contract's error body: JSON with string `message` and `error`, never HTML or a stack.
 * `message` is checked exactly when given.
 */
export function expectErrorBody(res: JsonResponse, status: number, message?: string): void {
  const where = `${status} expected, got ${res.status}: ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBe(status);
  expect(res.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
  const body = res.body as Json;
  expect(typeof body, where).toBe('object');
  expect(typeof body?.message, where).toBe('string');
  expect(typeof body?.error, where).toBe('string');
  if (message !== undefined) expect(body.message, where).toBe(message);
  expect(res.text, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
}
