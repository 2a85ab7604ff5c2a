import { describe, expect, it } from 'vitest';
import { TurnStartWaiters } from '../src/services/turns/start-waiters.ts';

describe('TurnStartWaiters (subscriptions waiting for a turn to start)', () => {
  it('a start wakes the waits of that user and message only', async () => {
    const waiters = new TurnStartWaiters();
    const alice = waiters.wait('alice', 'm1', 5_000);
    const aliceOther = waiters.wait('alice', 'm2', 50);
    const bob = waiters.wait('bob', 'm1', 50);
    expect(waiters.size).toBe(3);
    waiters.started('alice', 'm1');
    expect(await alice).toBe('started');
    // Bob's wait for the same id is not woken by Alice's start: it times out.
    expect(await bob).toBe('timeout');
    expect(await aliceOther).toBe('timeout');
    expect(waiters.size).toBe(0);
  });

  it('an abort ends a wait at once; an aborted signal never waits', async () => {
    const waiters = new TurnStartWaiters();
    const controller = new AbortController();
    const pending = waiters.wait('alice', 'm1', 5_000, controller.signal);
    controller.abort();
    expect(await pending).toBe('aborted');
    expect(await waiters.wait('alice', 'm1', 5_000, controller.signal)).toBe('aborted');
    expect(waiters.size).toBe(0);
    // A later start finds nothing to wake.
    waiters.started('alice', 'm1');
  });

  it('is bounded per user and in all: waits beyond the caps are refused, and leave nothing behind', async () => {
    const waiters = new TurnStartWaiters({ perUser: 2, total: 3 });
    const a = [waiters.wait('alice', 'x1', 5_000), waiters.wait('alice', 'x2', 5_000)];
    expect(await waiters.wait('alice', 'x3', 5_000)).toBe('refused');
    const b = waiters.wait('bob', 'y1', 5_000);
    expect(await waiters.wait('carol', 'z1', 5_000)).toBe('refused');
    expect(waiters.size).toBe(3);
    waiters.started('alice', 'x1');
    waiters.started('alice', 'x2');
    waiters.started('bob', 'y1');
    expect(await Promise.all([...a, b])).toEqual(['started', 'started', 'started']);
    expect(waiters.size).toBe(0);
    // Room again once they ended.
    const again = waiters.wait('alice', 'x4', 10);
    expect(await again).toBe('timeout');
  });
});
