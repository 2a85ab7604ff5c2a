import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDifyAgent, createOpenAIAgent, UpstreamError, type Agent, type UpstreamTimeouts } from '../src/index.ts';
import { difyAnswer, startFakeDify } from '@colloquy/testing';
import { openaiAnswer, startFakeOpenAI } from '@colloquy/testing';
import type { FakeServer, RecordedRequest } from '@colloquy/testing';
import type { StreamScript } from '@colloquy/testing';
import { waitFor } from '@colloquy/testing';
import { FAST, settle, turn } from './helpers.ts';

/** What the shared resilience tests need from each provider and its fake upstream. */
interface Harness extends FakeServer {
  apiKey: string;
  chatScripts: StreamScript[];
  chats(): RecordedRequest[];
  agent(timeouts?: UpstreamTimeouts, baseUrl?: string, dispatcher?: Dispatcher): Agent;
  answer(deltas: string[], opts?: { noEnd?: boolean }): string[];
  /** An error body in the provider's documented shape. */
  errorBody(status: number, message: string): unknown;
}

const providers: Array<[string, () => Promise<Harness>]> = [
  [
    'dify',
    async () => {
      const fake = await startFakeDify();
      return {
        ...fake,
        agent: (timeouts = {}, baseUrl = fake.baseUrl, dispatcher) =>
          createDifyAgent({ baseUrl, apiKey: fake.apiKey, timeouts: { ...FAST, ...timeouts }, dispatcher }),
        answer: (deltas, opts = {}) => difyAnswer({ deltas, ...opts }),
        errorBody: (status, message) => ({ code: status === 400 ? 'invalid_param' : 'internal_server_error', message, status }),
      };
    },
  ],
  [
    'openai',
    async () => {
      const fake = await startFakeOpenAI();
      return {
        ...fake,
        agent: (timeouts = {}, baseUrl = fake.baseUrl, dispatcher) =>
          createOpenAIAgent({ baseUrl, apiKey: fake.apiKey, model: 'm', timeouts: { ...FAST, ...timeouts }, dispatcher }),
        answer: (deltas, opts = {}) => openaiAnswer({ deltas, ...opts }),
        errorBody: (_status, message) => ({ error: { message, type: 'invalid_request_error', param: null, code: null } }),
      };
    },
  ],
];

describe.each(providers)('%s upstream resilience', (_name, start) => {
  let up: Harness;
  beforeEach(async () => {
    up = await start();
  });
  afterEach(async () => {
    await up.close();
  });

  it('does not retry a 4xx and throws the upstream message', async () => {
    up.chatScripts.push({ status: 400, json: up.errorBody(400, 'query is required') });
    const { error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 400 });
    expect((error as Error).message).toMatch(/answered 400.*query is required/);
    expect(up.chats()).toHaveLength(1);
  });

  it('retries a 5xx before the first byte, then fails with UpstreamError', async () => {
    up.chatScripts.push({ status: 503, json: up.errorBody(503, 'overloaded') });
    const { error } = await settle(up.agent({ maxRetries: 2 }), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 503 });
    expect((error as Error).message).toContain('overloaded');
    expect(up.chats()).toHaveLength(3);
  });

  it('succeeds when a retry after 5xx or 429 gets through', async () => {
    up.chatScripts.push(
      { status: 502, json: up.errorBody(502, 'bad gateway') },
      { status: 429, json: up.errorBody(429, 'slow down') },
      { chunks: up.answer(['Made it.']) },
    );
    const { deltas, error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(['Made it.']);
    expect(up.chats()).toHaveLength(3);
  });

  it('fails after retries when the upstream cannot be reached', async () => {
    const port = await closedPort();
    const { error } = await settle(up.agent({ maxRetries: 1 }, `http://127.0.0.1:${port}/v1`), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'connection_failed' });
    expect((error as Error).message).toMatch(new RegExp(`could not be reached: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
  });

  it('gives up when the first byte does not come in time, and closes the request', async () => {
    up.chatScripts.push({ stall: 'before-headers' });
    const { error } = await settle(up.agent({ firstByteTimeoutMs: 150 }), turn('?', []));
    expect(error).toMatchObject({ code: 'first_byte_timeout' });
    expect((error as Error).message).toMatch(/did not answer within 150 ms/);
    expect(up.chats()).toHaveLength(1);
    const chat = up.chats()[0]!;
    await waitFor(() => chat.closedAt !== undefined);
  });

  it('counts headers without a body against the first-byte timeout', async () => {
    up.chatScripts.push({ chunks: [], stall: 'after-chunks' });
    const { error } = await settle(up.agent({ firstByteTimeoutMs: 150 }), turn('?', []));
    expect(error).toMatchObject({ code: 'first_byte_timeout' });
  });

  it('gives up when the upstream goes silent mid-answer, keeping the partial deltas', async () => {
    up.chatScripts.push({ chunks: up.answer(['Half ', 'an '], { noEnd: true }), stall: 'after-chunks' });
    const { deltas, error } = await settle(up.agent({ idleTimeoutMs: 150 }), turn('?', []));
    expect(deltas).toEqual(['Half ', 'an ']);
    expect(error).toMatchObject({ code: 'idle_timeout' });
    expect(up.chats()).toHaveLength(1);
  });

  it('skips malformed SSE lines', async () => {
    const [first, ...rest] = up.answer(['Still ', 'fine.']);
    up.chatScripts.push({
      chunks: [
        first!,
        'data: {"event": "message", "answer": "broken\n\n',
        'this line has no field separator\n\n',
        'data: not json at all\n\n',
        ': an SSE comment\n\n',
        'retry: soon\n\n',
        'data: [1, 2, 3]\n\n',
        ...rest,
      ],
    });
    const { deltas, error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeUndefined();
    expect(deltas.join('')).toBe('Still fine.');
  });

  it('throws after the partial deltas when the upstream closes mid-stream', async () => {
    up.chatScripts.push({ chunks: up.answer(['Cut ', 'off'], { noEnd: true }), closeMidStream: true });
    const { deltas, error } = await settle(up.agent(), turn('?', []));
    expect(deltas).toEqual(['Cut ', 'off']);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'upstream_closed' });
    expect((error as Error).message).toMatch(/closed the connection mid-answer/);
    expect(up.chats()).toHaveLength(1);
  });

  it('rejects an answer without a body', async () => {
    up.chatScripts.push({ status: 204, chunks: [] });
    const { error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'invalid_response' });
    expect((error as Error).message).toMatch(/sent an empty answer/);
  });

  it('rejects an oversized event and closes the connection', async () => {
    const [first] = up.answer(['Start']);
    up.chatScripts.push({ chunks: [first!, `data: ${'x'.repeat(8 * 1024 * 1024 + 10)}`], stall: 'after-chunks' });
    const { error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'invalid_response' });
    expect((error as Error).message).toMatch(/sent an event larger than/);
    const chat = up.chats()[0]!;
    await waitFor(() => chat.closedAt !== undefined);
    expect(chat.closedEarly).toBe(true);
  });

  it('keeps the connection for the next turn after a complete answer', async () => {
    const dispatcher = new UndiciAgent();
    try {
      // Something still follows the end of the answer, so the run ends before the body does.
      up.chatScripts.push({ chunks: [...up.answer(['Hi']), ': trailing comment\n\n'], delayMs: 5 });
      const agent = up.agent({}, undefined, dispatcher);
      const idle = () => {
        const stats = dispatcher.stats[up.origin];
        return stats !== undefined && 'free' in stats && stats.running === 0 && stats.free === stats.connected;
      };
      for (let i = 0; i < 3; i++) {
        const { error } = await settle(agent, turn('?', []));
        expect(error).toBeUndefined();
        // The rest of the body (the end of the chunked encoding) is read after the run ends;
        // then undici marks the connection free.
        await waitFor(idle);
      }
      expect(dispatcher.stats[up.origin]!.connected).toBe(1);
      expect(new Set(up.chats().map((c) => c.remotePort)).size).toBe(1);
    } finally {
      await dispatcher.close();
    }
  });

  it('throws when the stream ends cleanly but the answer never completed', async () => {
    up.chatScripts.push({ chunks: up.answer(['Only this'], { noEnd: true }) });
    const { deltas, error } = await settle(up.agent(), turn('?', []));
    expect(deltas).toEqual(['Only this']);
    expect(error).toMatchObject({ code: 'incomplete_stream' });
  });

  it('yields pings while the upstream is silent, before and during the answer', async () => {
    up.chatScripts.push({ chunks: up.answer(['a', 'b']), firstChunkDelayMs: 150, delayMs: 80 });
    const { events, deltas, error } = await settle(up.agent({ pingIntervalMs: 25 }), turn('?', []));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(['a', 'b']);
    const kinds = events.map((e) => e.event);
    const a = events.findIndex((e) => e.event === 'message' && e.answer === 'a');
    const b = events.findIndex((e) => e.event === 'message' && e.answer === 'b');
    expect(kinds.slice(0, a).filter((k) => k === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(kinds.slice(a, b)).toContain('ping');
    expect(kinds.at(-1)).toBe('message_end');
  });

  it('stop before the first byte closes the request at once', async () => {
    up.chatScripts.push({ stall: 'before-headers' });
    const controller = new AbortController();
    const run = settle(up.agent(), turn('?', [], { signal: controller.signal }));
    const chat = await waitFor(() => up.chats()[0]);
    const stoppedAt = performance.now();
    controller.abort();
    const { error } = await run;
    expect((error as Error).name).toBe('AbortError');
    await waitFor(() => chat.closedAt !== undefined);
    expect(chat.closedAt! - stoppedAt).toBeLessThan(100);
    expect(up.chats()).toHaveLength(1);
  });

  it('closes the upstream request when the caller stops iterating', async () => {
    up.chatScripts.push({ chunks: up.answer(['first', 'second'], { noEnd: true }), stall: 'after-chunks' });
    for await (const event of up.agent().run(turn('?', []))) {
      if (event.event === 'message') break;
    }
    const chat = up.chats()[0]!;
    await waitFor(() => chat.closedAt !== undefined);
    expect(chat.closedEarly).toBe(true);
  });

  it('never puts the API key in an error message', async () => {
    up.chatScripts.push({ status: 401, json: up.errorBody(401, `Invalid key ${up.apiKey} (sent as Bearer ${up.apiKey})`) });
    const { error } = await settle(up.agent(), turn('?', []));
    expect(error).toBeInstanceOf(UpstreamError);
    const message = (error as Error).message;
    expect(message).not.toContain(up.apiKey);
    expect(message).toContain('[redacted]');
    expect(String(error)).not.toContain(up.apiKey);
    expect(JSON.stringify(error)).not.toContain(up.apiKey);

    up.chatScripts.length = 0;
    up.chatScripts.push({ chunks: [`data: {"event":"error","error":{"message":"bad ${up.apiKey}","code":"x${up.apiKey}"},"message":"bad ${up.apiKey}","code":"x${up.apiKey}"}\n\n`] });
    const streamed = await settle(up.agent(), turn('?', []));
    expect(streamed.error).toBeInstanceOf(UpstreamError);
    expect((streamed.error as Error).message).toContain('bad [redacted]');
    expect((streamed.error as UpstreamError).code).not.toContain(up.apiKey);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
