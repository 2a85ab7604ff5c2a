import { randomUUID } from 'node:crypto';
import type { MessageRecord, Store, StreamLog } from '@colloquy/store';
import { createMemoryStreamLog } from '@colloquy/store';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../src/schemas/stream-event.ts';
import { createInstanceLease } from '../src/services/turns/instance-lease.ts';
import { memoryStore } from './support/turn-fixture.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A `streaming` answer owned by `owner` (as prepareTurn stores it). */
async function streamingAnswer(store: Store, owner: string | undefined): Promise<string> {
  const conversationId = randomUUID();
  const base: MessageRecord = {
    id: randomUUID(), userId: 'u', conversationId, role: 'user', content: 'q', fileIds: [], status: 'complete', usage: null, citations: [],
    error: null, lastEventId: 0, createdAt: 1, updatedAt: 1,
  };
  const answer = { ...base, id: randomUUID(), role: 'assistant' as const, content: 'partial', status: 'streaming' as const };
  await store.beginTurn({
    conversation: { create: { id: conversationId, userId: 'u', agentId: 'a', name: 'n', managerId: null, upstreamId: null, createdAt: 1, updatedAt: 1 } },
    userMessage: base,
    assistantMessage: answer,
    ...(owner === undefined ? {} : { ownerInstance: owner }),
  });
  return answer.id;
}

describe('instance lease (ownership and recovery)', () => {
  const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

  async function setup() {
    const store = await memoryStore();
    stores.push(store);
    let clock = 1_000_000;
    const alive = new Set<number>([101, 202]);
    const ended: string[] = [];
    const memory = createMemoryStreamLog<StreamEvent>();
    const log: StreamLog<StreamEvent> = {
      ...memory,
      endOrphan: async (id, last) => {
        ended.push(`${id}:${last(7).event}`);
      },
    };
    const lease = (id: string, machine: string, pid: number) =>
      createInstanceLease({
        store, streamLog: log, instanceId: id, leaseMs: 3000, logger: silent,
        now: () => clock, machine, pid, processExists: (p) => alive.has(p),
      });
    return { store, lease, alive, ended, advance: (ms: number) => (clock += ms) };
  }

  const status = async (store: Store, id: string) => (await store.messages.get(id))?.status;

  it('a starting instance leaves a live instance’s turns alone; they become interrupted once its lease expires', async () => {
    const { store, lease, advance, ended } = await setup();
    const a = lease('A', 'host-1|boot|ns', 101);
    await a.check();
    const live = await streamingAnswer(store, 'A');
    const b = lease('B', 'host-2|boot|ns', 202);
    expect(await b.check()).toBe(0);
    expect(await status(store, live)).toBe('streaming');
    advance(2000);
    await a.check(); // A renews
    advance(2000);
    expect(await b.check()).toBe(0);
    expect(await status(store, live)).toBe('streaming');
    advance(3500); // A stopped renewing: expired
    expect(await b.check()).toBe(1);
    expect(await store.messages.get(live)).toMatchObject({ status: 'interrupted', content: 'partial' });
    expect(ended).toEqual([`${live}:message_end`]);
    expect((await store.instances.list()).map((i) => i.id)).toEqual(['B']);
  });

  it('on the same machine a dead process is noticed at once, and so is a previous life with our pid', async () => {
    const { store, lease, alive } = await setup();
    await lease('A', 'host|boot|ns', 101).check();
    await lease('OLD', 'host|boot|ns', 202).check();
    const ofA = await streamingAnswer(store, 'A');
    const ofOld = await streamingAnswer(store, 'OLD');
    alive.delete(101);
    // B runs with pid 202: the OLD instance with that pid can only be an earlier life of this process.
    expect(await lease('B', 'host|boot|ns', 202).check()).toBe(2);
    expect(await status(store, ofA)).toBe('interrupted');
    expect(await status(store, ofOld)).toBe('interrupted');
  });

  it('pids are not trusted across machines or pid namespaces; rows without an owner or a lease are interrupted', async () => {
    const { store, lease, alive } = await setup();
    await lease('A', 'host|boot|other-ns', 101).check();
    const ofA = await streamingAnswer(store, 'A');
    const legacy = await streamingAnswer(store, undefined);
    const ofUnknown = await streamingAnswer(store, 'never-registered');
    alive.delete(101);
    expect(await lease('B', 'host|boot|ns', 202).check()).toBe(2);
    expect(await status(store, ofA)).toBe('streaming');
    expect(await status(store, legacy)).toBe('interrupted');
    expect(await status(store, ofUnknown)).toBe('interrupted');
  });

  it('stop gives the lease up (nothing left to recover)', async () => {
    const { store, lease } = await setup();
    const a = lease('A', 'host|boot|ns', 101);
    await a.start();
    expect((await store.instances.list()).map((i) => i.id)).toEqual(['A']);
    await a.stop();
    expect(await store.instances.list()).toEqual([]);
  });
});
