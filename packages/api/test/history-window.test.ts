/**
 * The history windows kept between turns (services/turns/history-window.ts) on a real SQLite
 * store: whatever the limits evict, every read equals a fresh read of the store (a HistoryWindows
 * that keeps nothing), and the limits hold. The paths that write to a conversation between turns
 * (other instances, failed or stopped answers, deletion) are covered through the server
 * (apps/server/test/history-window.test.ts).
 */
import type { MessageRecord, Store } from '@colloquy/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryWindows } from '../src/services/turns/history-window.ts';
import { memoryStore } from './support/turn-fixture.ts';

const USER = 'u1';
let store: Store;
let seq = 0;

beforeEach(async () => {
  store = await memoryStore();
});
afterEach(async () => {
  await store.close();
});

const message = (conversationId: string, role: 'user' | 'assistant', content: string, status: MessageRecord['status']): MessageRecord => {
  const now = ++seq;
  return {
    id: `m${now}`,
    userId: USER,
    conversationId,
    role,
    content,
    fileIds: role === 'user' && now % 7 === 0 ? [`f${now}`] : [],
    status,
    usage: null,
    citations: [],
    error: null,
    lastEventId: 0,
    createdAt: now,
    updatedAt: now,
  };
};

/** One turn as the server stores it: both messages, then the answer's final text. */
async function storeTurn(conversationId: string, query: string, answer: string): Promise<MessageRecord> {
  const user = message(conversationId, 'user', query, 'complete');
  const assistant = message(conversationId, 'assistant', '', 'streaming');
  const exists = await store.conversations.get(USER, conversationId);
  await store.beginTurn({
    conversation: exists
      ? { touch: { userId: USER, id: conversationId, updatedAt: seq } }
      : { create: { id: conversationId, userId: USER, agentId: 'a', name: '', managerId: null, upstreamId: null, createdAt: seq, updatedAt: seq } },
    userMessage: user,
    assistantMessage: assistant,
  });
  await store.messages.update(assistant.id, { content: answer, status: 'complete', updatedAt: ++seq });
  return user;
}

describe('history windows', () => {
  it.each([
    { limits: { maxWindows: 2 }, budget: 500 },
    { limits: { maxChars: 3_000 }, budget: 500 },
    { limits: { maxChars: 100 }, budget: 500 },
    { limits: {}, budget: 0 },
    { limits: {}, budget: Number.POSITIVE_INFINITY },
  ])('every read equals a fresh read of the store, limits $limits, budget $budget', async ({ limits, budget }) => {
    const windows = new HistoryWindows(store, limits);
    const conversations = ['c1', 'c2', 'c3'];
    for (let turn = 0; turn < 40; turn++) {
      // Round robin over three conversations: with room for two, every window is evicted before reuse.
      for (const conversationId of conversations) {
        const current = await storeTurn(conversationId, `q${turn}-${'x'.repeat(turn % 17)}`, `a${turn}-${'y'.repeat((turn * 5) % 29)}`);
        // The turn reads its history before its answer is stored: the next message is its own.
        const read = await windows.read(USER, conversationId, current, budget);
        const fresh = await new HistoryWindows(store, { maxWindows: 0 }).read(USER, conversationId, current, budget);
        expect(read).toEqual(fresh);
        const { windows: kept, chars } = windows.size;
        if (limits.maxWindows !== undefined) expect(kept).toBeLessThanOrEqual(limits.maxWindows);
        if (limits.maxChars !== undefined) expect(chars).toBeLessThanOrEqual(limits.maxChars);
      }
    }
    if (limits.maxChars === 100) expect(windows.size.windows).toBe(0);
    else expect(windows.size.windows).toBeGreaterThan(0);
  });

  it('keeps nothing with maxWindows 0', async () => {
    const windows = new HistoryWindows(store, { maxWindows: 0 });
    for (let turn = 0; turn < 3; turn++) await windows.read(USER, 'c', await storeTurn('c', `q${turn}`, `a${turn}`), 100);
    expect(windows.size).toEqual({ windows: 0, chars: 0 });
  });
});
