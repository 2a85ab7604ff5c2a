import { createLocalStopSignals, createMemorySlotLimiter, createMemoryStreamLog, type StopSignals } from '@colloquy/store';
import { waitFor } from '@colloquy/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/app-error.ts';
import type { StreamEvent } from '../src/schemas/stream-event.ts';
import { createGenerationLimiter } from '../src/services/turns/generation-limiter.ts';
import { TurnEventWriter } from '../src/services/turns/turn-events.ts';
import { deltas, end, ScriptedAgent } from './support/scripted-agent.ts';
import { actor, collect, turnFixture, type TurnFixture } from './support/turn-fixture.ts';

const fixtures: TurnFixture[] = [];
const fixture = async (...args: Parameters<typeof turnFixture>) => {
  const f = await turnFixture(...args);
  fixtures.push(f);
  return f;
};
afterEach(async () => {
  // Newest first: fixtures sharing a store close before the one that opened it.
  for (const f of fixtures.splice(0).reverse()) await f.close();
});

describe('event numbering (TurnEventWriter)', () => {
  it('numbers every event of a turn 1, 2, 3… in one place, id and event first', async () => {
    const log = createMemoryStreamLog<StreamEvent>();
    await log.open('m');
    const writer = new TurnEventWriter(log, 'c', 'm');
    writer.message('Hel');
    writer.emit({ ...writer.stamp(), event: 'ping' });
    writer.message('lo');
    writer.emit({ ...writer.stamp(), event: 'message_end', status: 'complete', metadata: { usage: null, retriever_resources: [] } });
    log.close('m');
    const events: StreamEvent[] = [];
    for await (const entry of (await log.read('m', 0))!) {
      expect(String(entry.id)).toBe(entry.data.id);
      events.push(entry.data);
    }
    expect(events.map((e) => [e.id, e.event])).toEqual([['1', 'message'], ['2', 'ping'], ['3', 'message'], ['4', 'message_end']]);
    expect(Object.keys(events[0]!).slice(0, 2)).toEqual(['event', 'id']);
    expect(Object.keys(events[1]!).slice(0, 2)).toEqual(['event', 'id']);
    expect(events[0]).toMatchObject({ conversation_id: 'c', message_id: 'm', answer: 'Hel' });
    expect(writer.lastId).toBe(4);
  });
});

describe('a turn (set-up, running turn, final save)', () => {
  it('stores both messages before the agent runs, relays its events numbered, flushes while streaming and stores the final answer', async () => {
    const agent = new ScriptedAgent('scripted', [
      [
        ...deltas('One, '),
        { wait: 120 },
        ...deltas('two, '),
        { event: 'agent_thought', thought: 'thinking', tool: 'search' },
        { hold: true },
        ...deltas('three.'),
        end(),
      ],
    ]);
    const { turns, store } = await fixture([agent], { instanceId: 'inst-1' });
    const started = await turns.start({ actor: actor('alice'), query: '  What is   one two three?  ' });
    const stream = turns.events(actor('alice'), started.messageId, 0);
    // Flushed while streaming (every 50 ms here): the partial text reaches the store.
    const partial = await waitFor(async () => {
      const m = await store.messages.get(started.messageId);
      return m?.content === 'One, two, ' && m;
    });
    expect(partial).toMatchObject({ status: 'streaming', content: 'One, two, ' });
    expect(await store.messages.ownerOf(started.messageId)).toBe('inst-1');
    agent.release();
    const events = await collect(await stream);
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(events.map((e) => e.event)).toEqual(['message', 'message', 'agent_thought', 'message', 'message_end']);
    expect(events.at(-1)).toMatchObject({ status: 'complete', metadata: { usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } } });
    const saved = await turns.wait(started.messageId);
    expect(saved).toMatchObject({ status: 'complete', content: 'One, two, three.', lastEventId: 5, usage: { totalTokens: 8 } });
    const conversation = await store.conversations.get('alice', started.conversationId);
    expect(conversation).toMatchObject({ userId: 'alice', agentId: 'scripted', name: 'What is one two three?' });
    // The agent got the query, and no history for a new conversation.
    expect(agent.turns[0]).toMatchObject({ query: '  What is   one two three?  ', history: [], userId: 'alice' });
  });

  it('continues a conversation with its history; the same id from another user is a conversation of that user’s', async () => {
    const agent = new ScriptedAgent('scripted', [[...deltas('Answer'), end()]]);
    const { turns, store } = await fixture([agent]);
    const first = await turns.start({ actor: actor('alice'), query: 'first', conversationId: 'conv-1' });
    await turns.wait(first.messageId);
    const second = await turns.start({ actor: actor('alice'), query: 'second', conversationId: 'conv-1' });
    await turns.wait(second.messageId);
    expect(agent.turns[1]!.history).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'Answer' },
    ]);
    const mallorys = await turns.start({ actor: actor('mallory'), query: 'x', conversationId: 'conv-1' });
    await turns.wait(mallorys.messageId);
    expect(agent.turns[2]!.history).toEqual([]);
    expect(await store.messages.listAll('alice', 'conv-1')).toHaveLength(4);
    expect(await store.messages.listAll('mallory', 'conv-1')).toHaveLength(2);
  });

  it('refuses unknown files and too many files with nothing stored, and gives the generation back', async () => {
    const agent = new ScriptedAgent('scripted', [[...deltas('x'), end()]]);
    const slots = createMemorySlotLimiter();
    const { turns, store } = await fixture([agent], { slots });
    await expect(turns.start({ actor: actor('alice'), query: 'q', files: ['nope.txt'] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(turns.start({ actor: actor('alice'), query: 'q', files: ['a', 'b', 'c', 'd'] })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(slots.held()).toBe(0);
    expect(await store.conversations.list({ limit: 10 })).toEqual([]);
  });

  it('an agent failure ends the stream with error then message_end, the text so far kept', async () => {
    const agent = new ScriptedAgent('scripted', [[...deltas('Partial '), { fail: 'upstream went away' }]]);
    const { turns } = await fixture([agent]);
    const started = await turns.start({ actor: actor('alice'), query: 'q' });
    const events = await collect(await turns.events(actor('alice'), started.messageId, 0));
    expect(events.map((e) => e.event)).toEqual(['message', 'error', 'message_end']);
    expect(events[1]).toMatchObject({ code: 'upstream_error', message: 'upstream went away', status: 502 });
    expect(await turns.wait(started.messageId)).toMatchObject({ status: 'error', content: 'Partial ', error: 'upstream went away' });
  });

  it('stop aborts the agent and stores the partial answer as stopped', async () => {
    const agent = new ScriptedAgent('scripted', [[...deltas('Half'), { hold: true }, ...deltas(' more'), end()]]);
    const { turns } = await fixture([agent]);
    const started = await turns.start({ actor: actor('alice'), query: 'q' });
    const stream = collect(await turns.events(actor('alice'), started.messageId, 0));
    await waitFor(() => agent.holding);
    await expect(turns.stop(actor('bob'), started.messageId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await turns.stop(actor('alice'), started.messageId)).toMatchObject({ status: 'stopped', content: 'Half' });
    expect(agent.turns[0]!.signal.aborted).toBe(true);
    expect((await stream).at(-1)).toMatchObject({ event: 'message_end', status: 'stopped' });
  });
});

describe('generation limit', () => {
  it('is a 429 with Retry-After at the limit, the slot back when a turn ends; a 503 when the limiter is unreachable', async () => {
    const agent = new ScriptedAgent('scripted', [[{ hold: true }, ...deltas('x'), end()]]);
    const { turns } = await fixture([agent], { config: { maxConcurrentTurnsPerUser: 1 } });
    const first = await turns.start({ actor: actor('alice'), query: 'q' });
    const refused = await turns.start({ actor: actor('alice'), query: 'q' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 });
    await turns.start({ actor: actor('bob'), query: 'q' });
    agent.release();
    await turns.wait(first.messageId);
    agent.release();
    await turns.start({ actor: actor('alice'), query: 'q' });
    agent.release();

    const broken = createGenerationLimiter(
      { acquire: () => Promise.reject(new Error('ECONNREFUSED')), release: () => undefined, held: () => 0, close: () => undefined },
      2,
    );
    await expect(broken.claim('alice', 't')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});

describe('re-attach', () => {
  it('resumes after lastEventId exactly once; after the live stream is gone the stored message stands for it', async () => {
    const agent = new ScriptedAgent('scripted', [[...deltas('a', 'b', 'c', 'd'), end()]]);
    const log = createMemoryStreamLog<StreamEvent>({ retentionMs: 100 });
    const { turns, store } = await fixture([agent], { log });
    const started = await turns.start({ actor: actor('alice'), query: 'q' });
    await turns.wait(started.messageId);
    const after2 = await collect(await turns.events(actor('alice'), started.messageId, 2));
    expect(after2.map((e) => e.id)).toEqual(['3', '4', '5']);
    await expect(turns.events(actor('bob'), started.messageId, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const userMessage = (await store.messages.listAll('alice', started.conversationId))[0]!;
    await expect(turns.events(actor('alice'), userMessage.id, 0)).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    // Once the live stream has expired (retention 100 ms), one stored event stands for it all.
    const snapshot = await waitFor(async () => {
      const events = await collect(await turns.events(actor('alice'), started.messageId, 2));
      return events.length === 1 && events;
    });
    expect(snapshot).toEqual([expect.objectContaining({ event: 'message_end', id: '5', status: 'complete', answer: 'abcd' })]);
    expect(await collect(await turns.events(actor('alice'), started.messageId, 5))).toEqual([]);
  });
});

describe('stop across instances', () => {
  /** Stop signals between instances in one process (Redis pub/sub does this between processes). */
  function bus(): (instanceId: string) => StopSignals {
    const all = new Map<string, StopSignals>();
    return (instanceId) => {
      const local = createLocalStopSignals(instanceId);
      all.set(instanceId, local);
      return {
        requestStop: (owner, messageId) => all.get(owner)?.requestStop(owner, messageId) ?? Promise.resolve(false),
        listen: local.listen,
      };
    };
  }

  it('a stop on B reaches the turn on A through the stop signals; without a channel it answers what is stored', async () => {
    const agentA = new ScriptedAgent('scripted', [[...deltas('Half'), { hold: true }, end()]]);
    const agentB = new ScriptedAgent('scripted', [[end()]]);
    const connect = bus();
    const a = await fixture([agentA], { instanceId: 'A', stops: connect('A') });
    const b = await fixture([agentB], { instanceId: 'B', store: a.store, stops: connect('B') });
    const started = await a.turns.start({ actor: actor('alice'), query: 'q' });
    await waitFor(() => agentA.holding);
    expect(await b.turns.stop(actor('alice'), started.messageId)).toMatchObject({ status: 'stopped', content: 'Half' });
    expect(agentA.turns[0]!.signal.aborted).toBe(true);

    // Two instances with no shared channel: B cannot reach A's turn (it keeps streaming).
    const lonely = await fixture([new ScriptedAgent('scripted', [[end()]])], { instanceId: 'C', store: a.store });
    const next = await a.turns.start({ actor: actor('alice'), query: 'q' });
    expect(await lonely.turns.stop(actor('alice'), next.messageId)).toMatchObject({ status: 'streaming' });
    await a.turns.stop(actor('alice'), next.messageId);
  });
});
