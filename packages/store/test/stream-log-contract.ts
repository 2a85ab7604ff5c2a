import { describe, expect, it } from 'vitest';
import type { StreamEntry, StreamLog } from '../src/index.ts';

/** Two views of one log: the writer's instance, and a reader's (the same one in-process). */
export interface StreamLogPair {
  writer: StreamLog<Ev>;
  reader: StreamLog<Ev>;
  close(): Promise<void>;
}

export interface Ev {
  n: number;
  text: string;
}

const ev = (n: number): Ev => ({ n, text: `event ${n}` });

async function collect<T>(it: AsyncIterable<StreamEntry<T>> | undefined): Promise<StreamEntry<T>[]> {
  const out: StreamEntry<T>[] = [];
  if (!it) return out;
  for await (const e of it) out.push(e);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What every stream log must do, on the writer's instance and on a reader's: live follow,
 * exactly-once resume after an id, end on close, expiry, abort, and orphan ending.
 */
export function runStreamLogContract(name: string, open: (options: { retentionMs: number }) => Promise<StreamLogPair>): void {
  describe(`stream log contract: ${name}`, () => {
    it('a reader follows a live stream; a late reader resumes after an id, each event exactly once, in order', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s1');
        writer.append('s1', 1, ev(1));
        const live = collect(await reader.read('s1', 0));
        for (let n = 2; n <= 300; n++) {
          writer.append('s1', n, ev(n));
          if (n % 50 === 0) await sleep(5);
        }
        writer.close('s1');
        const got = await live;
        expect(got.map((e) => e.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
        expect(got.every((e) => e.data.n === e.id)).toBe(true);
        expect((await collect(await reader.read('s1', 297))).map((e) => e.id)).toEqual([298, 299, 300]);
        expect(await collect(await reader.read('s1', 300))).toEqual([]);
      } finally {
        await close();
      }
    });

    it('a reader that attaches mid-stream gets what came after its id, then the rest live', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s2');
        for (let n = 1; n <= 10; n++) writer.append('s2', n, ev(n));
        await sleep(20);
        const reading = collect(await reader.read('s2', 4));
        await sleep(20);
        for (let n = 11; n <= 15; n++) writer.append('s2', n, ev(n));
        writer.close('s2');
        expect((await reading).map((e) => e.id)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      } finally {
        await close();
      }
    });

    it('knows no unknown stream, and forgets a finished one after the retention time', async () => {
      const { writer, reader, close } = await open({ retentionMs: 1000 });
      try {
        expect(await reader.read('nope', 0)).toBeUndefined();
        await writer.open('s3');
        writer.append('s3', 1, ev(1));
        writer.close('s3');
        await sleep(50);
        expect((await collect(await reader.read('s3', 0))).map((e) => e.id)).toEqual([1]);
        await sleep(1300);
        expect(await reader.read('s3', 0)).toBeUndefined();
        expect(await writer.read('s3', 0)).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('ends a reader when its signal aborts, and refuses an event out of order', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s4');
        writer.append('s4', 1, ev(1));
        const ac = new AbortController();
        const reading = collect(await reader.read('s4', 0, ac.signal));
        setTimeout(() => ac.abort(), 50);
        expect((await reading).length).toBeLessThanOrEqual(1);
        expect(() => writer.append('s4', 3, ev(3))).toThrow();
        writer.close('s4');
      } finally {
        await close();
      }
    });

    it('return() ends a reader that is waiting for the next event at once (no signal needed); the stream goes on for others', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s7');
        writer.append('s7', 1, ev(1));
        const it = (await reader.read('s7', 0))![Symbol.asyncIterator]();
        expect((await it.next()).value).toEqual({ id: 1, data: ev(1) });
        const waiting = it.next();
        await sleep(20);
        await it.return!();
        expect(await waiting).toEqual({ value: undefined, done: true });
        expect(await it.next()).toEqual({ value: undefined, done: true });
        writer.append('s7', 2, ev(2));
        writer.close('s7');
        expect((await collect(await reader.read('s7', 0))).map((e) => e.id)).toEqual([1, 2]);
      } finally {
        await close();
      }
    });

    it('opening a finished stream’s id again starts a new stream (a message id used again); a live one is refused', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s6');
        writer.append('s6', 1, { n: 1, text: 'old' });
        writer.close('s6');
        await sleep(30);
        await writer.open('s6');
        await expect(writer.open('s6')).rejects.toThrow();
        writer.append('s6', 1, { n: 1, text: 'new' });
        writer.close('s6');
        await sleep(30);
        expect((await collect(await reader.read('s6', 0))).map((e) => e.data.text)).toEqual(['new']);
      } finally {
        await close();
      }
    });

    it('ends an orphaned stream with a last event after what it holds (for readers anywhere)', async () => {
      const { writer, reader, close } = await open({ retentionMs: 60_000 });
      try {
        await writer.open('s5');
        writer.append('s5', 1, ev(1));
        writer.append('s5', 2, ev(2));
        await sleep(30);
        const remote = await reader.read('s5', 0);
        if (writer === reader) {
          // In-process, a stream is only in the memory of the process that wrote it: a dead
          // process leaves nothing to end, and endOrphan is a no-op.
          await reader.endOrphan('unknown', (id) => ev(id));
          writer.close('s5');
          expect((await collect(remote)).map((e) => e.id)).toEqual([1, 2]);
          return;
        }
        const reading = collect(remote);
        await reader.endOrphan('s5', (id) => ({ n: id, text: 'the end' }));
        // Twice (two instances noticing the same death) adds nothing.
        await reader.endOrphan('s5', (id) => ({ n: id, text: 'again' }));
        const got = await reading;
        expect(got.map((e) => [e.id, e.data.text])).toEqual([[1, 'event 1'], [2, 'event 2'], [3, 'the end']]);
        expect((await collect(await reader.read('s5', 2))).map((e) => e.id)).toEqual([3]);
      } finally {
        await close();
      }
    });
  });
}
