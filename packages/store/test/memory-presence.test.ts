import { describe, expect, it } from 'vitest';
import { createMemoryPresence, PresenceConflictError, PresenceLimitError, type PresenceEvent } from '../src/index.ts';

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
    const a = presence.attach({ id: 'c1', userId: 'u', details: { kind: 'sdk', name: 'one' } });
    const b = presence.attach({ id: 'c1', userId: 'u', details: { kind: 'video' } });
    expect(await presence.get('c1')).toMatchObject({ kind: 'sdk', name: 'one', userId: 'u', openStreams: 0, publishing: false });
    presence.attach({ id: 'c1', userId: 'u', details: { name: 'renamed' }, overwrite: true }).release();
    a.release();
    expect(presence.count()).toBe(1);
    b.release();
    b.release();
    expect(presence.count()).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['joined', 'changed', 'left']);
    expect(events[2]).toMatchObject({ reason: 'closed', client: { name: 'renamed' } });
  });

  it('refuses another user’s id and users over their limit', () => {
    const { presence } = setup({ maxPerUser: 2 });
    presence.attach({ id: 'x', userId: 'alice' });
    expect(() => presence.attach({ id: 'x', userId: 'bob' })).toThrow(PresenceConflictError);
    presence.attach({ id: 'y', userId: 'alice' });
    expect(() => presence.attach({ id: 'z', userId: 'alice' })).toThrow(PresenceLimitError);
    presence.attach({ id: 'z', userId: 'bob' });
    expect(presence.count()).toBe(3);
  });

  it('times out silent clients within the timeout of their last sign of life, aborting their leases', async () => {
    const { presence, events, advance } = setup({ timeoutMs: 1000 });
    const lease = presence.attach({ id: 'quiet', userId: 'u' });
    presence.attach({ id: 'chatty', userId: 'u' });
    for (let t = 0; t < 5; t++) {
      advance(250);
      presence.touch('chatty');
      presence.sweep();
    }
    // 1250 ms of silence ≥ 80% of the timeout: gone; the one that heartbeats is not.
    expect((await presence.list()).map((c) => c.id)).toEqual(['chatty']);
    expect(lease.signal.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'left', reason: 'timeout', client: { id: 'quiet' } });
    expect(presence.touch('quiet')).toBe(false);
  });

  it('tracks streams and publishing, lists per user, and empties on close', async () => {
    const { presence, events } = setup();
    const lease = presence.attach({ id: 'p', userId: 'alice' });
    presence.attach({ id: 'q', userId: 'bob' });
    presence.adjustStreams('p', 1);
    presence.adjustStreams('p', 1);
    presence.adjustStreams('p', -1);
    presence.setPublishing('p', true);
    presence.setPublishing('p', true);
    presence.adjustStreams('unknown', 1);
    expect(await presence.get('p')).toMatchObject({ openStreams: 1, publishing: true });
    expect(presence.publishingCount()).toBe(1);
    expect((await presence.list('bob')).map((c) => c.id)).toEqual(['q']);
    presence.close();
    expect(presence.count()).toBe(0);
    expect(presence.publishingCount()).toBe(0);
    expect(lease.signal.aborted).toBe(true);
    expect(events.filter((e) => e.type === 'left').map((e) => (e as { reason: string }).reason)).toEqual(['shutdown', 'shutdown']);
    expect(() => presence.attach({ id: 'r', userId: 'u' })).toThrow();
  });
});
