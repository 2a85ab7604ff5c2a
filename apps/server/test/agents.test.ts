import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  difyAnswer,
  openaiAnswer,
  startFakeDify,
  startFakeOpenAI,
  waitFor,
  type FakeDify,
  type FakeOpenAI,
} from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient } from './support/trpc-client.ts';
import { readNdjson, requestJson, startTestServer, type TestServer } from './support/test-server.ts';

let dify: FakeDify;
let openai: FakeOpenAI;
let server: TestServer;
let client: ReturnType<typeof createTestClient>;
let configDir: string;

beforeAll(async () => {
  dify = await startFakeDify();
  openai = await startFakeOpenAI();
  // The config file names several agents; secrets come from the environment.
  configDir = mkdtempSync(join(tmpdir(), 'colloquy-agents-'));
  const configPath = join(configDir, 'colloquy.yaml');
  writeFileSync(
    configPath,
    [
      'agents:',
      '  - id: dify',
      '    type: dify',
      `    baseUrl: ${dify.baseUrl}`,
      '    apiKey: ${TEST_DIFY_KEY}',
      '    timeouts: { pingIntervalMs: 200, firstByteTimeoutMs: 2000, idleTimeoutMs: 2000, maxRetries: 1, retryBackoffMs: 10 }',
      '  - id: gpt',
      '    type: openai',
      `    baseUrl: ${openai.baseUrl}`,
      `    apiKey: ${openai.apiKey}`,
      '    model: gpt-fake-mini',
      '    timeouts: { firstByteTimeoutMs: 400, idleTimeoutMs: 400, maxRetries: 1, retryBackoffMs: 10 }',
    ].join('\n'),
  );
  server = await startTestServer({ COLLOQUY_CONFIG: configPath, TEST_DIFY_KEY: dify.apiKey });
  server.writeInbox('cats.txt', 'Cats sleep about sixteen hours a day.');
  client = createTestClient(server.url);
});
afterAll(async () => {
  await server?.dispose();
  await dify?.close();
  await openai?.close();
  rmSync(configDir, { recursive: true, force: true });
});

/** The fake's next answers, in order (the last one repeats); earlier leftovers are dropped. */
const scriptDify = (...scripts: FakeDify['chatScripts']) => dify.chatScripts.splice(0, Infinity, ...scripts);
const scriptOpenAI = (...scripts: FakeOpenAI['chatScripts']) => openai.chatScripts.splice(0, Infinity, ...scripts);

const converse = (body: Record<string, unknown>) =>
  fetch(`${server.url}/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('configured agents', () => {
  it('lists local and the configured agents as reachable', async () => {
    const agents = await client.agents.list.query();
    expect(agents.map((a) => [a.id, a.type, a.reachable])).toEqual([
      ['local', 'local', true],
      ['dify', 'dify', true],
      ['gpt', 'openai', true],
    ]);
  });

  it('refuses an unknown agent with 400 naming the valid ones', async () => {
    const res = await requestJson(`${server.url}/converse`, { body: { query: 'hi', agent: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: '对话请求出错', error: 'Unknown agent "nope". Valid agents: local, dify, gpt' });
  });

  it('registers dify and openai from the env shortcuts', async () => {
    const other = await startTestServer({
      DIFY_BASE_URL: dify.baseUrl,
      DIFY_API_KEY: dify.apiKey,
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_MODEL: 'gpt-fake-mini',
      DEFAULT_AGENT: 'openai',
    });
    try {
      const agents = await createTestClient(other.url).agents.list.query();
      expect(agents.map((a) => [a.id, a.isDefault, a.reachable])).toEqual([
        ['local', false, true],
        ['dify', false, true],
        ['openai', true, true],
      ]);
    } finally {
      await other.dispose();
    }
  });
});

describe('Dify', () => {
  it('streams a turn, keeps the Dify conversation and continues it on the next turn', async () => {
    dify.conversations.add('dify-conv-1');
    scriptDify(
      { chunks: difyAnswer({ deltas: ['Hel', 'lo ', 'there'], conversationId: 'dify-conv-1' }), delayMs: 5 },
      { chunks: difyAnswer({ deltas: ['Hello'], conversationId: 'dify-conv-1' }) },
    );
    const res = await converse({ query: 'hello', agent: 'dify', response_mode: 'streaming', conversation_id: 'dify-chat' });
    const events = await readNdjson(res);
    expect(events.filter((e) => e.event === 'message').map((e) => e.answer)).toEqual(['Hel', 'lo ', 'there']);
    expect(events.at(-1)).toMatchObject({
      event: 'message_end',
      status: 'complete',
      metadata: { usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } },
    });
    const conv = await client.conversations.get.query({ id: 'dify-chat' });
    expect(conv).toMatchObject({ agentId: 'dify', upstreamConversationId: 'dify-conv-1' });
    expect(dify.chats().at(-1)?.json).toMatchObject({ query: 'hello', response_mode: 'streaming', conversation_id: '', user: 'default' });

    // Blocking, without naming the agent: the conversation remembers it and its Dify id.
    const again = await requestJson(`${server.url}/converse`, { body: { query: 'again', conversation_id: 'dify-chat' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ event: 'message', conversation_id: 'dify-chat', answer: 'Hello' });
    expect(dify.chats().at(-1)?.json).toMatchObject({ query: 'again', conversation_id: 'dify-conv-1' });
  });

  it('uploads a file to Dify once and reuses its upstream id', async () => {
    await requestJson(`${server.url}/upload_files`, { body: { file_paths: ['cats.txt'] } });
    scriptDify({ chunks: difyAnswer({ deltas: ['ok'], conversationId: 'dify-conv-1' }) });
    const before = dify.uploads.length;
    for (const query of ['first', 'second']) {
      const res = await requestJson(`${server.url}/converse`, {
        body: { query, agent: 'dify', files: ['cats.txt'], conversation_id: 'dify-files' },
      });
      expect(res.status).toBe(200);
    }
    expect(dify.uploads.length - before).toBe(1);
    const upload = dify.uploads.at(-1)!;
    expect(upload).toMatchObject({ fileName: 'cats.txt', content: 'Cats sleep about sixteen hours a day.' });
    const sent = dify.chats().slice(-2).map((r) => (r.json as { files: Array<{ upload_file_id: string }> }).files);
    expect(sent).toEqual([
      [expect.objectContaining({ transfer_method: 'local_file', upload_file_id: upload.id })],
      [expect.objectContaining({ transfer_method: 'local_file', upload_file_id: upload.id })],
    ]);
  });

  it('starts a new Dify conversation when Dify no longer knows ours, and says so', async () => {
    // Dify answers with a conversation id it will then "forget".
    scriptDify({ chunks: difyAnswer({ deltas: ['one'], conversationId: 'dify-conv-lost' }) });
    expect((await requestJson(`${server.url}/converse`, { body: { query: 'a', agent: 'dify', conversation_id: 'dify-404' } })).status).toBe(200);
    dify.conversations.add('dify-conv-new');
    // The retry after the 404 gets this answer.
    scriptDify({ chunks: difyAnswer({ deltas: ['two'], conversationId: 'dify-conv-new' }) });
    const events = await readNdjson(await converse({ query: 'b', conversation_id: 'dify-404', response_mode: 'streaming' }));
    expect(events.find((e) => e.event === 'agent_thought')?.thought).toMatch(/new one was started/);
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    expect((await client.conversations.get.query({ id: 'dify-404' })).upstreamConversationId).toBe('dify-conv-new');
  });

  it('sends pings during a long upstream silence', async () => {
    scriptDify({ chunks: difyAnswer({ deltas: ['late'] }), firstChunkDelayMs: 700 });
    const events = await readNdjson(await converse({ query: 'slow', agent: 'dify', response_mode: 'streaming' }));
    expect(events.filter((e) => e.event === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
  });

  it('POST /stop_converse aborts the upstream request mid-answer and calls Dify\'s stop', async () => {
    scriptDify({
      chunks: difyAnswer({ deltas: Array.from({ length: 40 }, (_, i) => `w${i} `), taskId: 'task-stop-1' }),
      delayMs: 50,
    });
    const res = await converse({ query: 'long', agent: 'dify', response_mode: 'streaming' });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"event":"message"/g) ?? []).length < 3) {
      const { value } = await reader.read();
      text += decoder.decode(value, { stream: true });
    }
    const messageId = (JSON.parse(text.split('\n')[0]!) as { message_id: string }).message_id;
    const upstream = dify.chats().at(-1)!;
    const stopped = await requestJson(`${server.url}/stop_converse`, { body: { message_id: messageId } });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ message: '已停止', status: 'stopped' });
    await waitFor(() => upstream.closedAt !== undefined);
    // Aborted before the upstream's answer ended (how fast is a benchmark's question, not a test's).
    expect(upstream.closedEarly).toBe(true);
    await waitFor(() => dify.stops.find((s) => s.taskId === 'task-stop-1'));
    // The client's stream ends with message_end(stopped); the partial text is stored.
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
    const partial = lines.filter((e) => e.event === 'message').map((e) => e.answer).join('');
    const stored = (await client.messages.list.query({ conversationId: lines[0]!.conversation_id as string })).items.at(-1);
    expect(stored).toMatchObject({ status: 'stopped', content: partial });
    expect(partial.length).toBeGreaterThan(0);
  });

  /** Reads a streaming /converse answer up to its second text event: its message id, and the rest to read. */
  async function readToSecondDelta(res: Response) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"event":"message"/g) ?? []).length < 2) text += decoder.decode((await reader.read()).value, { stream: true });
    const messageId = (JSON.parse(text.split('\n')[0]!) as { message_id: string }).message_id;
    return { messageId, reader, decoder, text };
  }

  it('a client that goes away mid-answer stops only its reading: the upstream answer goes on and is stored whole', async () => {
    const deltas = Array.from({ length: 12 }, (_, i) => `p${i} `);
    scriptOpenAI({ chunks: openaiAnswer({ deltas }), delayMs: 40 });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'long', agent: 'gpt', response_mode: 'streaming', conversation_id: 'gpt-gone' }),
      signal: controller.signal,
    });
    const { messageId } = await readToSecondDelta(res);
    const upstream = openai.chats().at(-1)!;
    controller.abort();
    await waitFor(() => upstream.closedAt !== undefined, 10_000);
    expect(upstream.closedEarly).toBe(false);
    await waitFor(async () => (await client.messages.list.query({ conversationId: 'gpt-gone' })).items.at(-1)?.status === 'complete');
    const stored = (await client.messages.list.query({ conversationId: 'gpt-gone' })).items.at(-1);
    expect(stored).toMatchObject({ id: messageId, content: deltas.join('') });
  });

  it('POST /stop_converse aborts an OpenAI-compatible upstream request mid-answer', async () => {
    scriptOpenAI({ chunks: openaiAnswer({ deltas: Array.from({ length: 40 }, (_, i) => `s${i} `) }), delayMs: 50 });
    const res = await converse({ query: 'long', agent: 'gpt', response_mode: 'streaming' });
    const read = await readToSecondDelta(res);
    const { messageId, reader, decoder } = read;
    let { text } = read;
    const upstream = openai.chats().at(-1)!;
    expect((await requestJson(`${server.url}/stop_converse`, { body: { message_id: messageId } })).status).toBe(200);
    await waitFor(() => upstream.closedAt !== undefined);
    expect(upstream.closedEarly).toBe(true);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(JSON.parse(text.trim().split('\n').at(-1)!)).toMatchObject({ event: 'message_end', status: 'stopped' });
  });

  it('/stop_converse: 400 without an id, 404 for an unknown or foreign id', async () => {
    expect((await requestJson(`${server.url}/stop_converse`, { body: {} })).status).toBe(400);
    const unknown = await requestJson(`${server.url}/stop_converse`, { body: { message_id: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ message: '停止失败' });
    const mine = await client.chat.send.mutate({ query: 'x', user: 'owner-a' });
    const foreign = await requestJson(`${server.url}/stop_converse`, { body: { message_id: mine.messageId, user: 'owner-b' } });
    expect(foreign.status).toBe(404);
  });
});

describe('OpenAI-compatible', () => {
  it('sends the stored history and the files\' text, and maps deltas and usage', async () => {
    scriptOpenAI({ chunks: openaiAnswer({ deltas: ['Sixteen', ' hours.'] }) });
    const first = await requestJson(`${server.url}/converse`, {
      body: { query: 'How long do cats sleep?', agent: 'gpt', files: ['cats.txt'], conversation_id: 'gpt-chat' },
    });
    expect(first.body).toMatchObject({ answer: 'Sixteen hours.', metadata: { usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } } });
    scriptOpenAI({ chunks: openaiAnswer({ deltas: ['Yes.'] }) });
    await requestJson(`${server.url}/converse`, { body: { query: 'Really?', conversation_id: 'gpt-chat' } });

    const body = openai.chats().at(-1)!.json as { model: string; stream: boolean; messages: Array<{ role: string; content: string }> };
    expect(body).toMatchObject({ model: 'gpt-fake-mini', stream: true, stream_options: { include_usage: true } });
    expect(body.messages[0]).toMatchObject({ role: 'system' });
    expect(body.messages[0]!.content).toContain('Cats sleep about sixteen hours a day.');
    expect(body.messages.slice(1)).toEqual([
      { role: 'user', content: 'How long do cats sleep?' },
      { role: 'assistant', content: 'Sixteen hours.' },
      { role: 'user', content: 'Really?' },
    ]);
  });

  it('an upstream 5xx fails the turn: 500 on blocking REST, status error stored', async () => {
    scriptOpenAI({ status: 500, json: { error: { message: 'boom', type: 'server_error' } } });
    const res = await requestJson(`${server.url}/converse`, { body: { query: 'q', agent: 'gpt', conversation_id: 'gpt-500' } });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ message: '对话请求出错' });
    expect(JSON.stringify(res.body)).not.toContain(openai.apiKey);
    const stored = (await client.messages.list.query({ conversationId: 'gpt-500' })).items.at(-1);
    expect(stored?.status).toBe('error');
  });

  it('an upstream that dies mid-stream: error event, partial text kept', async () => {
    scriptOpenAI({ chunks: openaiAnswer({ deltas: ['par', 'tial'], noEnd: true }), closeMidStream: true });
    const events = await readNdjson(await converse({ query: 'q', agent: 'gpt', response_mode: 'streaming', conversation_id: 'gpt-cut' }));
    expect(events.filter((e) => e.event === 'message').map((e) => e.answer).join('')).toBe('partial');
    expect(events.at(-2)).toMatchObject({ event: 'error' });
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'error' });
    const stored = (await client.messages.list.query({ conversationId: 'gpt-cut' })).items.at(-1);
    expect(stored).toMatchObject({ status: 'error', content: 'partial' });
  });

  it('a stalled upstream times out instead of hanging', async () => {
    scriptOpenAI({ stall: 'before-headers' });
    const started = Date.now();
    const events = await readNdjson(await converse({ query: 'q', agent: 'gpt', response_mode: 'streaming' }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events.find((e) => e.event === 'error')?.message).toMatch(/did not answer within 400 ms/);
    expect(events.at(-1)).toMatchObject({ event: 'message_end', status: 'error' });
  });

  it('a malformed SSE line is skipped', async () => {
    scriptOpenAI({ chunks: ['data: {not json\n\n', ...openaiAnswer({ deltas: ['ok'] })] });
    const res = await requestJson(`${server.url}/converse`, { body: { query: 'q', agent: 'gpt' } });
    expect(res.body).toMatchObject({ answer: 'ok', status: 'complete' });
  });
});
