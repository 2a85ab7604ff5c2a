import type { Kysely } from 'kysely';

/** One caller's writes, run inside whichever transaction commits them. */
export type GroupWork<DB, T> = (trx: Kysely<DB>) => Promise<T>;

export interface GroupCommit<DB> {
  /**
   * Queues `work` and resolves with its result once the transaction that ran it has committed
   * (so the caller's later reads see its writes); rejects with its own error, having written
   * nothing, if it failed.
   */
  run<T>(work: GroupWork<DB, T>): Promise<T>;
  /** Commits everything queued, then refuses new work. */
  close(): Promise<void>;
}

export interface GroupCommitOptions {
  /** The most entries one transaction takes; the rest wait for the next. */
  maxBatch?: number;
}

interface Entry<DB> {
  work: GroupWork<DB, unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The store is closed: thrown by `run` after `close`. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor() {
    super('the store is closed');
  }
}

/**
 * Group commit: the writes queued within one event-loop turn (plus whatever queues while a
 * commit is in flight) run in one transaction, in the order they were queued. On SQLite a
 * commit is the expensive part of a small write (the WAL frames of every changed page, the
 * transaction's statements and Kysely's connection hand-off), and concurrent turns touch the same
 * index pages, so batching 10 turns halves SQLite's CPU per turn (bench/README.md, "Group commit").
 *
 * A failing entry must fail alone. The batch runs without savepoints (a failure is a bug or a
 * disk error, never the normal path, so the normal path pays nothing for it); if the batch's
 * transaction fails for any reason, it is rolled back whole and each of its entries is run
 * again in a transaction of its own, so every caller gets its own outcome and no entry is
 * half-written. Entries are database work only, with no other effects, so running one again
 * after a rollback is safe.
 *
 * One batch is in flight at a time: SQLite has one connection (a second transaction would wait
 * for it anyway), and what queues meanwhile forms the next, larger batch.
 */
export function createGroupCommit<DB>(db: Kysely<DB>, { maxBatch = 256 }: GroupCommitOptions = {}): GroupCommit<DB> {
  let queue: Entry<DB>[] = [];
  let scheduled = false;
  let inFlight: Promise<void> | undefined;
  let closed = false;

  const schedule = () => {
    if (scheduled || inFlight) return;
    scheduled = true;
    // setImmediate, not a microtask: the requests read in one poll phase all queue first.
    setImmediate(flush);
  };

  function flush(): void {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    inFlight = commit(batch).finally(() => {
      inFlight = undefined;
      if (queue.length > 0) schedule();
    });
  }

  async function commit(batch: Entry<DB>[]): Promise<void> {
    const results: unknown[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const entry of batch) results.push(await entry.work(trx));
      });
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // Rolled back whole: each entry again on its own, in order.
      for (const entry of batch) {
        try {
          entry.resolve(await db.transaction().execute(entry.work));
        } catch (own) {
          entry.reject(own);
        }
      }
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
  }

  return {
    run<T>(work: GroupWork<DB, T>): Promise<T> {
      if (closed) return Promise.reject(new StoreClosedError());
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    async close() {
      closed = true;
      // Whatever is queued or in flight commits before the connection closes.
      while (inFlight || queue.length > 0) {
        if (inFlight) await inFlight;
        else flush();
      }
    },
  };
}
