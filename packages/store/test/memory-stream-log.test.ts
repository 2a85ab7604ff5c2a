import { describe, expect, it } from 'vitest';
import { createMemoryStreamLog, type StreamEntry } from '../src/index.ts';

async function collect<T>(it: AsyncIterable<StreamEntry<T>> | undefined): Promise<StreamEntry<T>[]> {
  const out: StreamEntry<T>[] = [];
  if (!it) return out;
  for await (const e of it) out.push(e);
  return out;
}

describe('memory stream log', () => {
  it('follows a live stream and lets a late reader resume after an id', async () => {
    const log = createMemoryStreamLog<string>();
    log.open('s');
    log.append('s', 'a');
    const live = collect(log.read('s', 0));
    log.append('s', 'b');
    await new Promise((r) => setTimeout(r, 5));
    log.append('s', 'c');
    log.close('s');
    expect((await live).map((e) => [e.id, e.data])).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    expect((await collect(log.read('s', 2))).map((e) => e.data)).toEqual(['c']);
    expect(await collect(log.read('s', 3))).toEqual([]);
  });

  it('expires finished streams after retention and caps how many are kept', async () => {
    const log = createMemoryStreamLog<number>({ retentionMs: 20, maxFinished: 2 });
    for (const id of ['a', 'b', 'c']) {
      log.open(id);
      log.append(id, 1);
      log.close(id);
    }
    expect(log.has('a')).toBe(false);
    expect(log.has('c')).toBe(true);
    await new Promise((r) => setTimeout(r, 40));
    expect(log.size()).toBe(0);
    expect(log.read('c', 0)).toBeUndefined();
  });

  it('stops a reader when its signal aborts', async () => {
    const log = createMemoryStreamLog<number>();
    log.open('s');
    const ac = new AbortController();
    const reading = collect(log.read('s', 0, ac.signal));
    log.append('s', 1);
    setTimeout(() => ac.abort(), 10);
    expect((await reading).length).toBeLessThanOrEqual(1);
    expect(log.isOpen('s')).toBe(true);
  });
});
