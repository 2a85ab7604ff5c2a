import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withPings } from '../src/upstream/pings.ts';

async function drain<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('withPings', () => {
  it('yields a ping for each interval without events, then the events', async () => {
    const events = await drain(
      withPings(new AbortController().signal, 20, async function* () {
        yield 'a';
        await delay(110);
        yield 'b';
      }),
    );
    expect(events[0]).toBe('a');
    expect(events.at(-1)).toBe('b');
    expect(events.filter((e) => typeof e === 'object').length).toBeGreaterThanOrEqual(2);
  });

  it('restarts the interval on every event', async () => {
    const events = await drain(
      withPings(new AbortController().signal, 150, async function* () {
        for (let i = 0; i < 20; i++) {
          await delay(10);
          yield i;
        }
      }),
    );
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('does not count the time the consumer takes', async () => {
    const events: unknown[] = [];
    for await (const event of withPings(new AbortController().signal, 50, async function* () {
      yield 'a';
      yield 'b';
    })) {
      events.push(event);
      await delay(80);
    }
    expect(events).toEqual(['a', 'b']);
  });

  it('aborts the source when the turn is stopped or the consumer leaves early', async () => {
    let seen: AbortSignal | undefined;
    const source = async function* (signal: AbortSignal) {
      seen = signal;
      yield 1;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      yield 2;
    };
    for await (const event of withPings(new AbortController().signal, 1000, source)) {
      expect(event).toBe(1);
      break;
    }
    expect(seen?.aborted).toBe(true);

    const turn = new AbortController();
    const run = drain(withPings(turn.signal, 1000, source));
    await delay(5);
    turn.abort(new Error('stopped'));
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(turn.signal.reason);
    await run;
  });

  it('passes a source failure on after the pings, once, and then ends', async () => {
    const source = async function* () {
      yield 'a';
      await delay(120);
      throw new Error('upstream broke');
    };
    const it = withPings(new AbortController().signal, 30, source);
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          seen.push(r.value);
        }
      })(),
    ).rejects.toThrow('upstream broke');
    expect(seen[0]).toBe('a');
    expect(seen.slice(1).every((e) => (e as { event?: string }).event === 'ping')).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('a value that arrives after a ping, while the consumer is busy, is passed on once', async () => {
    const source = async function* () {
      await delay(60);
      yield 'late';
    };
    const it = withPings(new AbortController().signal, 20, source);
    expect((await it.next()).value).toEqual({ event: 'ping' });
    await delay(100);
    expect(await it.next()).toEqual({ value: 'late', done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
