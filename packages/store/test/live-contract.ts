import { describe, expect, it } from 'vitest';
import { PresenceLimitError, type PresenceEvent, type PresenceRegistry, type SlotLimiter } from '../src/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Two instances' registries (the same one in-process); `kill` makes A vanish without leaving (shared only). */
export interface PresencePair {
  a: PresenceRegistry;
  b: PresenceRegistry;
  kill?: () => Promise<void>;
  close(): Promise<void>;
}

export function runPresenceContract(
  name: string,
  open: (options: { timeoutMs: number; maxPerUser?: number }) => Promise<PresencePair>,
  shared: boolean,
): void {
  describe(`presence contract: ${name}`, () => {
    it('a client held on A is listed on B with its details; B sees it join, change and leave', async () => {
      const { a, b, close } = await open({ timeoutMs: 2000 });
      const seen: PresenceEvent[] = [];
      b.watch((e) => seen.push(e));
      try {
        const lease = await a.attach({ id: 'c1', userId: 'alice', details: { kind: 'sdk', name: 'laptop', metadata: { v: 1 } } });
        await until(() => seen.some((e) => e.type === 'joined'));
        expect(await b.get('alice', 'c1')).toMatchObject({ id: 'c1', userId: 'alice', kind: 'sdk', name: 'laptop', metadata: { v: 1 } });
        expect((await b.list('alice')).map((c) => c.id)).toEqual(['c1']);
        expect(await b.list('bob')).toEqual([]);
        a.setPublishing('alice', 'c1', true);
        b.adjustStreams('alice', 'c1', 1);
        await until(async () => (await b.get('alice', 'c1'))?.openStreams === 1 && (await b.get('alice', 'c1'))?.publishing === true);
        lease.release();
        await until(() => seen.some((e) => e.type === 'left'));
        expect(seen.find((e) => e.type === 'left')).toMatchObject({ reason: 'closed', client: { id: 'c1' } });
        expect(await b.list()).toEqual([]);
        expect(await b.get('alice', 'c1')).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('keeps each user’s ids apart, finds an id across users, and refuses a user over the limit, across instances', async () => {
      const { a, b, close } = await open({ timeoutMs: 2000, maxPerUser: 2 });
      try {
        await a.attach({ id: 'x', userId: 'alice', details: { name: 'alice’s' } });
        const bobs = await b.attach({ id: 'x', userId: 'bob', details: { name: 'bob’s' } });
        await until(async () => (await a.findById('x', 5)).length === 2);
        expect(await a.get('bob', 'x')).toMatchObject({ name: 'bob’s' });
        expect(await b.get('alice', 'x')).toMatchObject({ name: 'alice’s' });
        expect(await b.findById('x', 1)).toHaveLength(1);
        bobs.release();
        await until(async () => (await a.get('bob', 'x')) === undefined);
        expect(await a.get('alice', 'x')).toMatchObject({ name: 'alice’s' });
        await a.attach({ id: 'y', userId: 'alice' });
        await until(async () => (await b.list('alice')).length === 2);
        await expect(b.attach({ id: 'z', userId: 'alice' })).rejects.toThrow(PresenceLimitError);
        await b.attach({ id: 'z', userId: 'bob' });
        await until(async () => (await a.list()).length === 3);
      } finally {
        await close();
      }
    });

    it('a heartbeat sent to B keeps A’s client; a silent one leaves within the timeout', async () => {
      const { a, b, close } = await open({ timeoutMs: 1000 });
      const seen: PresenceEvent[] = [];
      b.watch((e) => seen.push(e));
      try {
        const quiet = await a.attach({ id: 'quiet', userId: 'u' });
        await a.attach({ id: 'chatty', userId: 'u' });
        const started = Date.now();
        while (Date.now() - started < 1600) {
          expect(await b.touch('u', 'chatty')).toBe(true);
          await sleep(200);
        }
        expect((await b.list()).map((c) => c.id)).toEqual(['chatty']);
        expect(quiet.signal.aborted).toBe(true);
        expect(seen.find((e) => e.type === 'left')).toMatchObject({ reason: 'timeout', client: { id: 'quiet' } });
        expect(await b.touch('u', 'quiet')).toBe(false);
      } finally {
        await close();
      }
    });

    // In-process there is no other instance to vanish.
    if (shared) it('the clients of an instance that vanished leave within the timeout', async () => {
      const pair = await open({ timeoutMs: 1000 });
      const seen: PresenceEvent[] = [];
      pair.b.watch((e) => seen.push(e));
      try {
        await pair.a.attach({ id: 'gone', userId: 'u' });
        await until(async () => (await pair.b.list()).length === 1);
        const killedAt = Date.now();
        await pair.kill!();
        await until(async () => (await pair.b.list()).length === 0, 3000);
        expect(Date.now() - killedAt).toBeLessThanOrEqual(1500);
        await until(() => seen.some((e) => e.type === 'left'));
        expect(seen.find((e) => e.type === 'left')).toMatchObject({ reason: 'timeout', client: { id: 'gone' } });
      } finally {
        await pair.close();
      }
    });
  });
}

export interface LimiterPair {
  a: SlotLimiter;
  b: SlotLimiter;
  /** A stops renewing (its process died); shared limiters only. */
  kill?: () => void;
  close(): Promise<void>;
}

export function runLimiterContract(name: string, open: (options: { leaseMs: number }) => Promise<LimiterPair>, shared: boolean): void {
  describe(`slot limiter contract: ${name}`, () => {
    it('counts one owner’s slots across instances, gives them back on release, and a slot is taken once', async () => {
      const { a, b, close } = await open({ leaseMs: 10_000 });
      try {
        expect(await a.acquire('alice', 't1', 2)).toBe(true);
        expect(await a.acquire('alice', 't1', 2)).toBe(true);
        expect(await b.acquire('alice', 't2', 2)).toBe(true);
        expect(await a.acquire('alice', 't3', 2)).toBe(false);
        expect(await b.acquire('bob', 't4', 2)).toBe(true);
        b.release('alice', 't2');
        await until(async () => (await a.acquire('alice', 't3', 2)) === true);
        expect(await b.acquire('carol', 'x', 0)).toBe(true);
      } finally {
        await close();
      }
    });

    // In-process a slot has no lease: there is no other instance to die.
    if (shared) it('keeps renewed slots past the lease time; a dead instance’s slots come back', async () => {
      const pair = await open({ leaseMs: 600 });
      try {
        expect(await pair.a.acquire('alice', 'live', 1)).toBe(true);
        await sleep(900);
        expect(await pair.b.acquire('alice', 'other', 1)).toBe(false);
        pair.kill!();
        await sleep(900);
        expect(await pair.b.acquire('alice', 'other', 1)).toBe(true);
      } finally {
        await pair.close();
      }
    });
  });
}
