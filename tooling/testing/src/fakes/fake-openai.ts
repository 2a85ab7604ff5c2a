/**
 * A fake OpenAI-compatible server speaking the wire format of the public "OpenAI API reference —
 * Create chat completion, streaming (chat.completion.chunk), stream_options.include_usage"
 * (platform.openai.com/docs/api-reference/chat): POST /v1/chat/completions with `stream: true`
 * answers `data: {chat.completion.chunk}` events, a final chunk with `usage` and empty `choices`
 * when include_usage is set, then `data: [DONE]`; errors are `{"error": {message, type, code}}`.
 * GET /v1/models lists models.
 */
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './http-fake.ts';
import { nextScript, playScript, sseData, type StreamScript } from './stream-script.ts';

export interface FakeOpenAI extends FakeServer {
  /** `<origin>/v1` */
  baseUrl: string;
  apiKey: string;
  /** Answers for successive POST /chat/completions; the last one repeats. */
  chatScripts: StreamScript[];
  chats(): RecordedRequest[];
}

export const OPENAI_KEY = 'sk-fakeOpenAIKey1234567890';
export const OPENAI_MODEL = 'gpt-fake-mini';

/** With `requireKey: false` the server accepts requests without Authorization (like Ollama). */
export async function startFakeOpenAI(options: { requireKey?: boolean } = {}): Promise<FakeOpenAI> {
  const requireKey = options.requireKey ?? true;
  const chatScripts: StreamScript[] = [];
  const server = await startFakeServer(async (rec, _req, res) => {
    const path = rec.path.split('?')[0] ?? '';
    if (requireKey && rec.headers.authorization !== `Bearer ${OPENAI_KEY}`) {
      sendJson(res, 401, {
        error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      });
      return;
    }
    if (rec.method === 'POST' && path === '/v1/chat/completions') {
      await playScript(res, nextScript(chatScripts, { chunks: openaiAnswer({ deltas: ['Hello'] }) }));
      return;
    }
    if (rec.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: OPENAI_MODEL, object: 'model', created: 1686935002, owned_by: 'fake' }] });
      return;
    }
    sendJson(res, 404, { error: { message: `Unknown request URL: ${rec.method} ${path}`, type: 'invalid_request_error', code: 'unknown_url' } });
  });
  return {
    ...server,
    baseUrl: `${server.origin}/v1`,
    apiKey: OPENAI_KEY,
    chatScripts,
    chats: () => server.requests.filter((r) => r.path === '/v1/chat/completions'),
  };
}

export interface OpenAIAnswerSpec {
  deltas: string[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Leave out the finish chunk, the usage chunk and `[DONE]` (a stream that ends early). */
  noEnd?: boolean;
}

/** The SSE chunks of a streamed completion, as in the reference's streaming example. */
export function openaiAnswer(spec: OpenAIAnswerSpec): string[] {
  const base = { id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: OPENAI_MODEL, system_fingerprint: 'fp_44709d6fcb' };
  const chunk = (delta: object, finish_reason: string | null) =>
    sseData({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], usage: null });
  const chunks = [chunk({ role: 'assistant', content: '' }, null), ...spec.deltas.map((content) => chunk({ content }, null))];
  if (!spec.noEnd) {
    chunks.push(
      chunk({}, 'stop'),
      sseData({ ...base, choices: [], usage: spec.usage ?? { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } }),
      'data: [DONE]\n\n',
    );
  }
  return chunks;
}
