import { Agent as UndiciAgent, type Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIAgent, UpstreamError, type OpenAIAgentOptions } from '../src/index.ts';
import { OPENAI_MODEL, openaiAnswer, startFakeOpenAI, type FakeOpenAI } from '@colloquy/testing';
import { sseData } from '@colloquy/testing';
import { waitFor } from '@colloquy/testing';
import { collect, FAST, file, runUntilStopped, settle, turn } from './helpers.ts';

let openai: FakeOpenAI;
beforeEach(async () => {
  openai = await startFakeOpenAI();
});
afterEach(async () => {
  await openai.close();
});

const agentFor = (o: FakeOpenAI, extra: Partial<OpenAIAgentOptions> = {}) =>
  createOpenAIAgent({ baseUrl: o.baseUrl, apiKey: o.apiKey, model: OPENAI_MODEL, timeouts: FAST, ...extra });

interface SentBody {
  model: string;
  stream: boolean;
  stream_options: { include_usage: boolean };
  messages: Array<{ role: string; content: string }>;
}
const sent = (o: FakeOpenAI, i = 0) => o.chats()[i]!.json as SentBody;

describe('openai agent', () => {
  it('streams deltas and the final usage', async () => {
    openai.chatScripts.push({
      chunks: openaiAnswer({ deltas: ['Hello', ', ', 'world.'], usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } }),
    });
    const agent = agentFor(openai);
    const { events, deltas, end } = await collect(agent, turn('Say hello', []));

    expect(agent.info).toMatchObject({ id: 'openai', type: 'openai' });
    expect(deltas).toEqual(['Hello', ', ', 'world.']);
    expect(events).toHaveLength(4);
    expect(end).toEqual({ event: 'message_end', usage: { promptTokens: 9, completionTokens: 12, totalTokens: 21 }, citations: [] });
    const chat = openai.chats()[0]!;
    expect(chat.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(sent(openai)).toEqual({
      model: OPENAI_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Say hello' }],
    });
  });

  it('sends the history and the text of the files, labelled by name', async () => {
    const cats = file('f-cats', 'cats.txt', 'Cats sleep sixteen hours a day.');
    const rockets = file('f-rockets', 'rockets.md', 'Rockets burn hydrogen.');
    const t = turn('What do cats do?', [cats], {
      conversationFiles: [rockets],
      history: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello! How can I help?' },
      ],
    });
    await collect(agentFor(openai, { systemPrompt: 'You are terse.' }), t);

    const { messages } = sent(openai);
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    const system = messages[0]!.content;
    expect(system.startsWith('You are terse.')).toBe(true);
    expect(system).toContain('<document name="cats.txt">\nCats sleep sixteen hours a day.\n</document>');
    expect(system).toContain('<document name="rockets.md">\nRockets burn hydrogen.\n</document>');
    expect(system.indexOf('cats.txt')).toBeLessThan(system.indexOf('rockets.md'));
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'What do cats do?' },
    ]);
  });

  it('drops the oldest history first to stay within the budget', async () => {
    const history = [
      { role: 'user' as const, content: 'first question '.repeat(4) },
      { role: 'assistant' as const, content: 'first answer '.repeat(4) },
      { role: 'user' as const, content: 'second question' },
      { role: 'assistant' as const, content: 'second answer' },
      { role: 'user' as const, content: 'third question' },
      { role: 'assistant' as const, content: 'third answer' },
    ];
    // Room for the last four messages (55 chars) but not the fifth.
    await collect(agentFor(openai, { historyBudgetChars: 60 }), turn('Now?', [], { history }));
    expect(sent(openai).messages).toEqual([
      { role: 'user', content: 'second question' },
      { role: 'assistant', content: 'second answer' },
      { role: 'user', content: 'third question' },
      { role: 'assistant', content: 'third answer' },
      { role: 'user', content: 'Now?' },
    ]);

    // A budget that would start the history with an answer drops that answer too.
    await collect(agentFor(openai, { historyBudgetChars: 45 }), turn('Now?', [], { history }));
    expect(sent(openai, 1).messages.map((m) => m.content)).toEqual(['third question', 'third answer', 'Now?']);

    await collect(agentFor(openai, { historyBudgetChars: 0 }), turn('Now?', [], { history }));
    expect(sent(openai, 2).messages).toEqual([{ role: 'user', content: 'Now?' }]);
  });

  it('keeps system messages of a request-supplied history first and whole, trimming the dialogue', async () => {
    const history = [
      { role: 'system' as const, content: 'Answer in French.' },
      { role: 'user' as const, content: 'first question '.repeat(4) },
      { role: 'assistant' as const, content: 'first answer' },
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'second question' },
      { role: 'assistant' as const, content: 'second answer' },
    ];
    // 17 + 9 chars of instructions leave room for the last two dialogue messages (28 chars) only.
    await collect(agentFor(openai, { historyBudgetChars: 60 }), turn('Now?', [], { history }));
    expect(sent(openai).messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'second question' },
      { role: 'assistant', content: 'second answer' },
      { role: 'user', content: 'Now?' },
    ]);
  });

  it('keeps file text within its budget, small files whole', async () => {
    const small = file('f-small', 'small.txt', 'tiny');
    const big = file('f-big', 'big.txt', 'x'.repeat(5000));
    const empty = { ...file('f-scan', 'scan.pdf', ''), mimeType: 'application/pdf' };
    await collect(agentFor(openai, { fileTextBudgetChars: 1000 }), turn('?', [big, small, empty]));
    const system = sent(openai).messages[0]!.content;
    expect(system).toContain('<document name="small.txt">\ntiny\n</document>');
    expect(system).toContain(`<document name="big.txt">\n${'x'.repeat(996)}\n[… truncated]\n</document>`);
    expect(system).toContain('<document name="scan.pdf">\n(no text could be extracted from this file)\n</document>');
  });

  it('sends no Authorization header without an API key', async () => {
    const open = await startFakeOpenAI({ requireKey: false });
    try {
      const agent = createOpenAIAgent({ baseUrl: open.baseUrl, model: 'llama3', timeouts: FAST });
      await collect(agent, turn('Hi', []));
      expect(open.chats()[0]!.headers.authorization).toBeUndefined();
      await expect(agent.checkReachable()).resolves.toBe(true);
    } finally {
      await open.close();
    }
  });

  it('throws the upstream message when the stream carries an error object', async () => {
    openai.chatScripts.push({
      chunks: [
        ...openaiAnswer({ deltas: ['Par'], noEnd: true }),
        sseData({ error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } }),
      ],
    });
    const { deltas, error } = await settle(agentFor(openai), turn('?', []));
    expect(deltas).toEqual(['Par']);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'server_error' });
    expect((error as Error).message).toContain('The server had an error while processing your request.');
  });

  it('stop aborts the upstream request within 100 ms', async () => {
    openai.chatScripts.push({ chunks: openaiAnswer({ deltas: ['One ', 'two '], noEnd: true }), stall: 'after-chunks' });
    const { events, error, stoppedAt } = await runUntilStopped(agentFor(openai), 'Count', (e) => e.event === 'message' && e.answer === 'two ');
    expect((error as Error).name).toBe('AbortError');
    const chat = openai.chats()[0]!;
    await waitFor(() => chat.closedAt !== undefined);
    expect(chat.closedEarly).toBe(true);
    expect(chat.closedAt! - stoppedAt).toBeLessThan(100);
  });

  it('an already aborted turn never reaches the upstream', async () => {
    const controller = new AbortController();
    controller.abort();
    const { error } = await settle(agentFor(openai), turn('?', [], { signal: controller.signal }));
    expect((error as Error).name).toBe('AbortError');
    expect(openai.chats()).toHaveLength(0);
  });

  it('sends every call through the dispatcher it was given', async () => {
    const seen: string[] = [];
    class Recording extends UndiciAgent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        seen.push(`${options.method} ${options.path}`);
        return super.dispatch(options, handler);
      }
    }
    const dispatcher = new Recording();
    try {
      const agent = agentFor(openai, { dispatcher });
      await collect(agent, turn('Hi', []));
      await expect(agent.checkReachable()).resolves.toBe(true);
      expect(seen).toEqual(['POST /v1/chat/completions', 'GET /v1/models']);
    } finally {
      await dispatcher.close();
    }
  });

  it('reports whether the server is reachable', async () => {
    await expect(agentFor(openai).checkReachable()).resolves.toBe(true);
    expect(openai.requests.at(-1)!.path).toBe('/v1/models');
    await expect(agentFor(openai, { apiKey: 'sk-wrong-key-123' }).checkReachable()).resolves.toBe(false);
  });
});
