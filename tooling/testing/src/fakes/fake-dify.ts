/**
 * A fake Dify app speaking the wire format of the public "Dify Service API — Chat App API"
 * documentation (docs.dify.ai, API Access → Chat App):
 *   POST /chat-messages (response_mode "streaming": `data: {"event": …}` chunks — message,
 *     agent_message, agent_thought, message_file, message_replace, message_end with
 *     metadata.usage and metadata.retriever_resources, error, ping, workflow_ and node_ events;
 *     404 `{"code":"not_found","message":"Conversation Not Exists.","status":404}`),
 *   POST /files/upload (multipart/form-data `file` + `user` → 201 `{id, name, size, …}`),
 *   POST /chat-messages/:task_id/stop (`{user}` → `{"result":"success"}`),
 *   GET /parameters.
 * All under the base URL `<origin>/v1`, with `Authorization: Bearer <app key>`.
 */
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './http-fake.ts';
import { nextScript, playScript, sseData, type StreamScript } from './stream-script.ts';

export interface FakeDify extends FakeServer {
  /** `<origin>/v1`, as Dify writes its Service API base URL. */
  baseUrl: string;
  apiKey: string;
  /** Answers for successive POST /chat-messages; the last one repeats. */
  chatScripts: StreamScript[];
  /** Conversation ids Dify knows; naming any other gets 404 Conversation Not Exists. */
  conversations: Set<string>;
  chats(): RecordedRequest[];
  uploads: UploadRecord[];
  stops: Array<{ taskId: string; body: unknown; at: number }>;
}

export interface UploadRecord {
  user: string;
  fileName: string;
  mimeType: string;
  content: string;
  id: string;
}

export const DIFY_KEY = 'app-fakeDifyKey1234567890';

export async function startFakeDify(): Promise<FakeDify> {
  const chatScripts: StreamScript[] = [];
  const conversations = new Set<string>();
  const uploads: UploadRecord[] = [];
  const stops: FakeDify['stops'] = [];
  const server = await startFakeServer(async (rec, req, res) => {
    const path = rec.path.split('?')[0] ?? '';
    if (rec.headers.authorization !== `Bearer ${DIFY_KEY}`) {
      sendJson(res, 401, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
      return;
    }
    if (rec.method === 'POST' && path === '/v1/chat-messages') {
      const conversationId = (rec.json as { conversation_id?: string } | undefined)?.conversation_id ?? '';
      if (conversationId && !conversations.has(conversationId)) {
        sendJson(res, 404, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
        return;
      }
      await playScript(res, nextScript(chatScripts, { chunks: difyAnswer({ deltas: ['Hello'] }) }));
      return;
    }
    if (rec.method === 'POST' && path === '/v1/files/upload') {
      const form = await new Request('http://fake/upload', {
        method: 'POST',
        headers: { 'content-type': rec.headers['content-type'] ?? '' },
        body: new Uint8Array(rec.body),
      }).formData();
      const file = form.get('file');
      if (!(file instanceof File)) {
        sendJson(res, 400, { code: 'no_file_uploaded', message: 'Please upload your file.', status: 400 });
        return;
      }
      const id = `dify-upload-${uploads.length + 1}`;
      uploads.push({
        user: String(form.get('user')),
        fileName: file.name,
        mimeType: file.type,
        content: await file.text(),
        id,
      });
      sendJson(res, 201, {
        id,
        name: file.name,
        size: file.size,
        extension: file.name.split('.').pop(),
        mime_type: file.type,
        created_by: String(form.get('user')),
        created_at: 1705407629,
      });
      return;
    }
    const stop = /^\/v1\/chat-messages\/([^/]+)\/stop$/.exec(path);
    if (rec.method === 'POST' && stop) {
      stops.push({ taskId: decodeURIComponent(stop[1]!), body: rec.json, at: rec.receivedAt });
      sendJson(res, 200, { result: 'success' });
      return;
    }
    if (rec.method === 'GET' && path === '/v1/parameters') {
      sendJson(res, 200, { opening_statement: '', suggested_questions: [], user_input_form: [], file_upload: {} });
      return;
    }
    sendJson(res, 404, { code: 'not_found', message: 'The requested URL was not found on the server.', status: 404 });
  });
  return {
    ...server,
    baseUrl: `${server.origin}/v1`,
    apiKey: DIFY_KEY,
    chatScripts,
    conversations,
    chats: () => server.requests.filter((r) => r.path === '/v1/chat-messages'),
    uploads,
    stops,
  };
}

export interface DifyAnswerSpec {
  deltas: string[];
  conversationId?: string;
  taskId?: string;
  /** Extra chunks sent before the answer (agent_thought, workflow events, …). */
  before?: unknown[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  resources?: unknown[];
  /** Leave out message_end (a stream that ends early). */
  noEnd?: boolean;
}

/** The SSE chunks of a streamed Dify answer, as in the documented example. */
export function difyAnswer(spec: DifyAnswerSpec): string[] {
  const conversation_id = spec.conversationId ?? 'dify-conv-1';
  const task_id = spec.taskId ?? 'task-1';
  const message_id = 'dify-msg-1';
  const base = { task_id, message_id, conversation_id, created_at: 1705398420 };
  const chunks = [
    ...(spec.before ?? []).map((b) => sseData(b)),
    ...spec.deltas.map((answer) => sseData({ event: 'message', ...base, id: message_id, answer })),
  ];
  if (!spec.noEnd) {
    chunks.push(
      sseData({
        event: 'message_end',
        ...base,
        id: message_id,
        metadata: {
          usage: spec.usage ?? { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, currency: 'USD', latency: 0.5 },
          retriever_resources: spec.resources ?? [],
        },
      }),
    );
  }
  return chunks;
}
