import { describe, expect, it } from 'vitest';
import { createMemoryPresence, PresenceLimitError, type PresenceEvent } from '../src/index.ts';

function setup(options: { timeoutMs?: number; maxPerUser?: number } = {}) {
  let clock = 1_000_000;
  const presence = createMemoryPresence({ timeoutMs: options.timeoutMs ?? 1000, maxPerUser: options.maxPerUser, now: () => clock });
  const events: PresenceEvent[] = [];
  presence.watch((e) => events.push(e));
  return { presence, events, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe('memory presence', () => {
  it('keeps a record while any lease holds it; the last release removes it', async () => {
    const { presence, events } = setup();
    const a = presence.hold({ id: 'c1', userId: 'u', details: { kind: 'sdk', name: 'one' } });
    const b = presence.hold({ id: 'c1', userId: 'u', details: { kind: 'video' } });
    expect(await presence.get('u', 'c1')).toMatchObject({ kind: 'sdk', name: 'one', userId: 'u', openStreams: 0, publishing: false });
    presence.hold({ id: 'c1', userId: 'u', details: { name: 'renamed' }, overwrite: true }).release();
    a.release();
    expect(presence.count()).toBe(1);
    b.release();
    b.release();
    expect(presence.count()).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['joined', 'changed', 'left']);
    expect(events[2]).toMatchObject({ reason: 'closed', client: { name: 'renamed' } });
  });

  it('keeps ids per user (two users’ clients of one id are two clients) and refuses users over their limit', async () => {
    const { presence } = setup({ maxPerUser: 2 });
    const alices = presence.hold({ id: 'x', userId: 'alice', details: { name: 'alice’s' } });
    presence.hold({ id: 'x', userId: 'bob', details: { name: 'bob’s' } });
    expect(await presence.get('alice', 'x')).toMatchObject({ userId: 'alice', name: 'alice’s' });
    expect(await presence.get('bob', 'x')).toMatchObject({ userId: 'bob', name: 'bob’s' });
    expect(await presence.get('carol', 'x')).toBeUndefined();
    expect((await presence.findById('x', 5)).map((c) => c.userId).sort()).toEqual(['alice', 'bob']);
    expect(await presence.findById('x', 1)).toHaveLength(1);
    presence.hold({ id: 'y', userId: 'alice' });
    expect(() => presence.hold({ id: 'z', userId: 'alice' })).toThrow(PresenceLimitError);
    presence.hold({ id: 'z', userId: 'bob' });
    expect(presence.count()).toBe(4);
    alices.release();
    expect(await presence.get('alice', 'x')).toBeUndefined();
    expect(await presence.get('bob', 'x')).toMatchObject({ name: 'bob’s' });
  });

  it('times out silent clients within the timeout of their last sign of life, aborting their leases', async () => {
    const { presence, events, advance } = setup({ timeoutMs: 1000 });
    const lease = presence.hold({ id: 'quiet', userId: 'u' });
    presence.hold({ id: 'chatty', userId: 'u' });
    for (let t = 0; t < 5; t++) {
      advance(250);
      presence.touchLocal('u', 'chatty');
      presence.sweep();
    }
    // 1250 ms of silence ≥ 80% of the timeout: gone; the one that heartbeats is not.
    expect((await presence.list()).map((c) => c.id)).toEqual(['chatty']);
    expect(lease.signal.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'left', reason: 'timeout', client: { id: 'quiet' } });
    expect(presence.touchLocal('u', 'quiet')).toBe(false);
  });

  it('tracks streams and publishing, lists per user, and empties on close', async () => {
    const { presence, events } = setup();
    const lease = presence.hold({ id: 'p', userId: 'alice' });
    presence.hold({ id: 'q', userId: 'bob' });
    presence.adjustStreams('alice', 'p', 1);
    presence.adjustStreams('alice', 'p', 1);
    presence.adjustStreams('alice', 'p', -1);
    presence.setPublishing('alice', 'p', true);
    presence.setPublishing('alice', 'p', true);
    presence.adjustStreams('alice', 'unknown', 1);
    presence.adjustStreams('bob', 'p', 1);
    expect(await presence.get('alice', 'p')).toMatchObject({ openStreams: 1, publishing: true });
    expect(presence.publishingCount()).toBe(1);
    expect((await presence.list('bob')).map((c) => c.id)).toEqual(['q']);
    presence.close();
    expect(presence.count()).toBe(0);
    expect(presence.publishingCount()).toBe(0);
    expect(lease.signal.aborted).toBe(true);
    expect(events.filter((e) => e.type === 'left').map((e) => (e as { reason: string }).reason)).toEqual(['shutdown', 'shutdown']);
    expect(() => presence.hold({ id: 'r', userId: 'u' })).toThrow();
  });
});
