/**
 * The OpenAI-compatible surface driven by the real clients from npm (issue 15): the `openai`
 * package (blocking, streaming with usage, abort mid-stream, error classes, models.list) and the
 * Vercel AI SDK's `@ai-sdk/openai-compatible` provider with `streamText`. Every conversation they
 * create is visible through tRPC (the SDK's transport) and `GET /get_conversation_list`.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { listConversations, storedMessages, trpcQuery, useServer, waitUntil, type Json } from './support/http-helpers.ts';

const KEYS = { alice: 'openai-alice-key-00001', bob: 'openai-bob-key-0000002', app: 'openai-app-key-0000003' };

describe('OpenAI client against Colloquy', () => {
  const server = useServer({
    API_KEYS: `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.app}:acme:app`,
    // The local agent streams in visible steps: an abort lands mid-answer.
    LOCAL_AGENT_DELTA_DELAY_MS: '5',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const client = (apiKey = KEYS.alice, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
    new OpenAI({ baseURL: `${server().url}/v1`, apiKey, maxRetries: 0, ...options });
  const auth = (key = KEYS.alice) => ({ authorization: `Bearer ${key}` });

  it('answers a blocking completion, stored as a new conversation with its ids', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'How long do cats sleep?' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('local');
    expect(data.choices[0]!.message.role).toBe('assistant');
    expect(data.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.total_tokens).toBeGreaterThan(0);
    const extra = data as unknown as { conversation_id: string; message_id: string };
    expect(response.headers.get('x-colloquy-conversation')).toBe(extra.conversation_id);
    expect(response.headers.get('x-colloquy-message')).toBe(extra.message_id);
    const stored = await storedMessages(server().url, extra.conversation_id, undefined, auth());
    expect(stored.map((m: Json) => [m.role, m.content])).toEqual([
      ['user', 'How long do cats sleep?'],
      ['assistant', data.choices[0]!.message.content],
    ]);
    // Without a conversation id a request starts a new conversation, never the latest.
    const again = await client().chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'And dogs?' }] });
    expect((again as unknown as { conversation_id: string }).conversation_id).not.toBe(extra.conversation_id);
  });

  it('continues a conversation named by header or metadata, the messages array as history', async () => {
    const first = await client().chat.completions.create(
      { model: 'local', messages: [{ role: 'user', content: 'first' }] },
      { headers: { 'X-Colloquy-Conversation': 'oa-thread' } },
    );
    expect((first as unknown as { conversation_id: string }).conversation_id).toBe('oa-thread');
    const second = await client().chat.completions.create({
      model: 'local',
      metadata: { conversation_id: 'oa-thread' },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: first.choices[0]!.message.content! },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
      ],
    });
    expect((second as unknown as { conversation_id: string }).conversation_id).toBe('oa-thread');
    const stored = await storedMessages(server().url, 'oa-thread', undefined, auth());
    expect(stored.filter((m: Json) => m.role === 'user').map((m: Json) => m.content)).toEqual(['first', 'second']);
  });

  it('streams chunks with usage and [DONE]', async () => {
    const stream = await client().chat.completions.create({
      model: 'local',
      messages: [{ role: 'user', content: 'Tell me about cats.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const { conversation_id } = last as unknown as { conversation_id: string };
    const stored = await storedMessages(server().url, conversation_id, undefined, auth());
    expect(stored.at(-1)).toMatchObject({ role: 'assistant', content: text, status: 'complete' });
  });

  it('an abort mid-stream ends the client’s reading; the answer is still generated and stored', async () => {
    const controller = new AbortController();
    const stream = await client().chat.completions.create(
      { model: 'local', messages: [{ role: 'user', content: 'Tell me everything about cats and their sleep.' }], stream: true },
      { signal: controller.signal },
    );
    let conversationId = '';
    let received = '';
    for await (const chunk of stream) {
      conversationId = (chunk as unknown as { conversation_id: string }).conversation_id;
      received += chunk.choices[0]?.delta.content ?? '';
      if (received.length > 0) controller.abort();
    }
    const done = await waitUntil(async () => {
      const stored = await storedMessages(server().url, conversationId, undefined, auth());
      return stored.at(-1)?.status === 'complete' ? stored.at(-1) : undefined;
    });
    expect(done.content.length).toBeGreaterThan(received.length);
  });

  it('lists one model per agent', async () => {
    const models = [];
    for await (const m of client().models.list()) models.push(m);
    expect(models.map((m) => m.id)).toEqual(['local']);
    expect((await client().models.retrieve('local')).id).toBe('local');
  });

  it('raises the client’s error classes for 401, 404, 400 and 429', async () => {
    const ask = (c: OpenAI, extra: Record<string, unknown> = {}) =>
      c.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }], ...extra } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    const auth401 = await ask(client('wrong-key')).catch((e: unknown) => e);
    expect(auth401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((auth401 as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_api_key');

    const model404 = await ask(client(), { model: 'gpt-4o' }).catch((e: unknown) => e);
    expect(model404).toBeInstanceOf(OpenAI.NotFoundError);
    expect((model404 as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
    expect((model404 as InstanceType<typeof OpenAI.APIError>).param).toBe('model');
    expect(await client().models.retrieve('gpt-4o').catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);

    for (const [extra, param] of [
      [{ n: 2 }, 'n'],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, 'tools'],
      [{ audio: { voice: 'alloy', format: 'mp3' }, modalities: ['text', 'audio'] }, 'audio'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, 'messages[0].content'],
      [{ messages: [{ role: 'assistant', content: 'no question' }] }, 'messages[0].role'],
      [{ frobnicate: true }, 'frobnicate'],
    ] as const) {
      const err = await ask(client(), extra).catch((e: unknown) => e);
      expect(err, JSON.stringify(extra)).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.APIError>).param, JSON.stringify(extra)).toMatch(new RegExp(`^${param.replace(/[[\]]/g, '\\$&')}`));
    }

    // Another user's conversation id is an unused id for this user (a new conversation of hers).
    const bobs = await client(KEYS.bob).chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'bob here' }] }, { headers: { 'X-Colloquy-Conversation': 'bobs-own' } });
    expect((bobs as unknown as { conversation_id: string }).conversation_id).toBe('bobs-own');
    expect((await storedMessages(server().url, 'bobs-own', undefined, auth(KEYS.bob))).length).toBe(2);
  });

  it('a rate-limited request is a RateLimitError', async () => {
    const { startTestServer } = await import('./support/test-server.ts');
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '1' });
    try {
      const c = new OpenAI({ baseURL: `${limited.url}/v1`, apiKey: 'open-mode', maxRetries: 0 });
      await c.models.list();
      const err = await c.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('rate_limit_exceeded');
      expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBeTruthy();
    } finally {
      await limited.dispose();
    }
  });

  it('an app key’s `user` is its end user, in the app’s namespace', async () => {
    const made = await client(KEYS.app).chat.completions.create({ model: 'local', user: 'eve', messages: [{ role: 'user', content: 'eve asks' }] });
    const id = (made as unknown as { conversation_id: string }).conversation_id;
    const list = await trpcQuery(server().url, 'conversations.list', { user: 'eve', limit: 10 }, auth(KEYS.app));
    expect(list.items.map((c: Json) => [c.id, c.userId])).toEqual([[id, 'acme:eve']]);
    expect(await client(KEYS.app).chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'nobody' }] }).catch((e: unknown) => e)).toBeInstanceOf(
      OpenAI.BadRequestError,
    );
  });

  it('the Vercel AI SDK streams through @ai-sdk/openai-compatible', async () => {
    const provider = createOpenAICompatible({ name: 'colloquy', baseURL: `${server().url}/v1`, apiKey: KEYS.alice, includeUsage: true });
    const result = streamText({ model: provider('local'), system: 'Be helpful.', prompt: 'How long do cats sleep?', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text.length).toBeGreaterThan(0);
    const usage = await result.usage;
    expect(usage.totalTokens).toBeGreaterThan(0);
    expect(await result.finishReason).toBe('stop');
    const { response } = await result;
    expect(response).toBeDefined();
  });

  it('conversations made through these clients are listed by REST and tRPC, and REST ones continue here', async () => {
    const rest = await listConversations(server().url, { limit: 100 }, auth());
    const trpc = await trpcQuery(server().url, 'conversations.list', { limit: 100 }, auth());
    const restIds = (rest.body as Json).data.map((c: Json) => c.id).sort();
    expect(restIds).toEqual(trpc.items.map((c: Json) => c.id).sort());
    expect(restIds).toContain('oa-thread');
    // A conversation started over REST continues through the OpenAI client.
    const started = await fetch(`${server().url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ query: 'from rest', conversation_id: 'rest-started' }),
    });
    expect(started.status).toBe(200);
    await client().chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'from openai' }] }, { headers: { 'X-Colloquy-Conversation': 'rest-started' } });
    const stored = await storedMessages(server().url, 'rest-started', undefined, auth());
    expect(stored.filter((m: Json) => m.role === 'user').map((m: Json) => m.content)).toEqual(['from rest', 'from openai']);
  });
});
