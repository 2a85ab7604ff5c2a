/**
 * A quick check that the benchmark's mock upstreams and floor speak their wire formats. No
 * timings are asserted here: benchmarks run with `pnpm bench`, never in the test suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText, keepAliveAgent, messageEvent, openaiAnswer, timeStream } from '../src/lib/http.ts';
import type { Child } from '../src/lib/procs.ts';
import { startFloor, startMock, type Mock } from '../src/lib/targets.ts';

let mock: Mock;
let floor: Child;
const agent = keepAliveAgent(1);
const chat = (base: string, stream: boolean) => ({
  method: 'POST' as const,
  url: `${base}/v1/chat/completions`,
  body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'hi' }], stream, stream_options: { include_usage: true } }),
});

beforeAll(async () => {
  mock = await startMock();
  floor = await startFloor(mock.url);
}, 30_000);

afterAll(async () => {
  agent.destroy();
  await floor?.stop();
  await mock?.stop();
});

describe('bench mocks', () => {
  it('OpenAI-compatible: JSON answer, SSE stream ending in [DONE], model list', async () => {
    await mock.configure({ chunks: 3, delayMs: 0, text: 'ab ' });
    const json = JSON.parse((await fetchText(agent, chat(mock.url, false))).body) as { choices: Array<{ message: { content: string } }> };
    expect(json.choices[0]?.message.content).toBe('ab ab ab ');
    const s = await timeStream(agent, chat(mock.url, true), 'sse', openaiAnswer, { countAll: true, keepBody: true });
    expect(s.answers).toBe(3);
    expect(s.body).toContain('"usage"');
    expect(s.body?.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const models = JSON.parse((await fetchText(agent, { method: 'GET', url: `${mock.url}/v1/models` })).body) as { data: unknown[] };
    expect(models.data).toHaveLength(1);
  });

  it('Dify-compatible: message events then message_end', async () => {
    await mock.configure({ chunks: 2, delayMs: 1 });
    const s = await timeStream(
      agent,
      { method: 'POST', url: `${mock.url}/v1/chat-messages`, body: JSON.stringify({ query: 'hi', response_mode: 'streaming', user: 'u', inputs: {} }) },
      'sse',
      messageEvent,
      { countAll: true, keepBody: true },
    );
    expect(s.answers).toBe(2);
    expect(s.body).toContain('"event":"message_end"');
  });

  it('hold mode keeps streams open until released; the floor passes them through', async () => {
    await mock.configure({ hold: true, delayMs: 20, maxHoldMs: 10_000 });
    const pending = timeStream(keepAliveAgent(1), chat(floor.url, true), 'sse', openaiAnswer, { countAll: true });
    await new Promise((r) => setTimeout(r, 150));
    expect((await mock.stats()).held).toBe(1);
    expect(await mock.release()).toBe(1);
    const s = await pending;
    expect(s.answers).toBeGreaterThanOrEqual(2);
    await mock.configure({});
  });
});
