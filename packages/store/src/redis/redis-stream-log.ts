import { createMemoryStreamLog } from '../stream-log/memory-stream-log.ts';
import { StreamLogUnavailableError, type StreamEntry, type StreamLog } from '../stream-log/types.ts';
import type { RedisLink } from './redis-link.ts';

export interface RedisStreamLogOptions {
  link: RedisLink;
  /** How long a finished stream stays re-attachable (STREAM_RETENTION_MS). */
  retentionMs?: number;
  /** Most entries kept per stream in Redis (older ones are trimmed; a re-attach before them fails). */
  maxEvents?: number;
  /** Most events one stream may have waiting while Redis is unreachable; beyond, it stops being shared. */
  maxPendingPerStream?: number;
}

/** A stream still open is kept this long from its last write, in case every instance dies. */
const OPEN_TTL_MS = 6 * 3600_000;
const OPEN_TTL_REFRESH_MS = 60_000;
/** Entries fetched per read by a remote reader. */
const BATCH = 256;
/** A followed stream found missing is looked for again this often before the reader ends. */
const MISSING_RETRIES = 10;
const MISSING_RETRY_MS = 200;

interface SharedStream {
  /** Entries not yet in Redis: [event id, JSON]. */
  pending: [number, string][];
  /** Last event id known to be in Redis. */
  written: number;
  closing: boolean;
  /** Too much piled up while Redis was away: the stream is no longer shared. */
  lost: boolean;
  /** Redis came back without the stream (it restarted empty): written again whole from memory. */
  reseed: boolean;
  expiresRefreshedAt: number;
}

/**
 * The stream log shared by every instance through Redis Streams.
 *
 * Layout: one Redis stream per message, `<prefix>stream:<messageId>`. Event N is entry `N-0`, so
 * an event id means the same entry everywhere and `XRANGE (N-0 +` is exactly "after N". Entry
 * `0-1` marks the stream open (it exists before its first event), entry `N-1` marks it closed
 * after event N (readers end there); using the sequence part for markers keeps every event id
 * equal to its entry's. Trimmed to `maxEvents` (MAXLEN ~), expired `retentionMs` after the end.
 *
 * Writes: the instance running a turn keeps the stream in memory too and serves its own readers
 * from there (as the in-process log does); appends are queued and sent once per tick, every
 * stream's entries in one pipeline with one PUBLISH on `<prefix>streams` naming the streams that
 * grew. Nothing per stream but a small pending list: no connection, timer or growing buffer.
 *
 * Reads from another instance: a reader fetches `XRANGE (pos +` in batches and, when it has
 * caught up, waits for a wake-up naming its stream (one subscriber connection per process for
 * all of them); after Redis comes back, every reader re-fetches, so no wake-up lost in the
 * outage leaves it waiting.
 */
export interface RedisStreamLog<T> extends StreamLog<T> {
  /** Stops following wake-ups and ends every remote reader (the link itself is closed by its owner). */
  dispose(): Promise<void>;
}

export function createRedisStreamLog<T>(options: RedisStreamLogOptions): RedisStreamLog<T> {
  const { link } = options;
  const redis = link.command;
  const retentionMs = options.retentionMs ?? 5 * 60_000;
  const maxEvents = options.maxEvents ?? 100_000;
  const maxPending = options.maxPendingPerStream ?? 10_000;
  const keyOf = (streamId: string) => `${link.prefix}stream:${streamId}`;
  const wakeChannel = `${link.prefix}streams`;
  const local = createMemoryStreamLog<T>({ retentionMs });
  const shared = new Map<string, SharedStream>();
  /** Streams with entries (or their end) not yet in Redis: a tick's flush visits only these. */
  const dirty = new Set<string>();
  /** Remote readers by stream id. */
  const tails = new Map<string, Set<RemoteReader<T>>>();
  let flushQueued = false;
  let flushing = false;
  /** Checking which streams Redis lost: no flush may write a stream's later events first. */
  let reseeding = false;

  const wake = (streamId: string) => {
    const readers = tails.get(streamId);
    if (readers) for (const r of readers) r.wake();
  };
  const unsubscribe = link.subscribe(wakeChannel, (message) => {
    for (const id of message.toString().split(' ')) if (id) wake(id);
  });
  const offReady = link.onReady(() => {
    // Wake-ups published while we were away are gone: every reader looks again; pending writes
    // go out — after the streams Redis lost (a restart without persistence) are written again
    // whole from memory, so readers anywhere still get every event once.
    void reseedLost().finally(() => {
      for (const readers of tails.values()) for (const r of readers) r.wake();
      scheduleFlush();
    });
  });

  const reseedLost = async () => {
    const open = [...shared].filter(([, s]) => !s.lost);
    if (open.length === 0) return;
    reseeding = true;
    try {
      const exists = await Promise.all(open.map(([id]) => redis.exists(keyOf(id)).catch(() => 1)));
      open.forEach(([streamId, s], i) => {
        if (exists[i] !== 0) return;
        const events = local.eventsOf(streamId);
        s.reseed = true;
        s.written = 0;
        s.pending = events.map((data, index) => [index + 1, JSON.stringify(data)]);
        dirty.add(streamId);
      });
    } finally {
      reseeding = false;
    }
  };

  const scheduleFlush = () => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      void flush();
    });
  };

  const flush = async () => {
    if (flushing || reseeding || !link.isReady()) return;
    flushing = true;
    let failed = false;
    try {
      const batch: { streamId: string; s: SharedStream; entries: [number, string][]; closing: boolean }[] = [];
      const pipeline = redis.pipeline();
      const now = Date.now();
      for (const streamId of dirty) {
        dirty.delete(streamId);
        const s = shared.get(streamId);
        if (!s || s.lost || (s.pending.length === 0 && !s.closing)) continue;
        const key = keyOf(streamId);
        const entries = s.pending;
        s.pending = [];
        if (s.reseed) {
          s.reseed = false;
          pipeline.xadd(key, '0-1', 'open', '1');
        }
        for (const [id, json] of entries) pipeline.xadd(key, 'MAXLEN', '~', maxEvents, `${id}-0`, 'd', json);
        const last = entries.length > 0 ? entries[entries.length - 1]![0] : s.written;
        const closing = s.closing;
        if (closing) {
          pipeline.xadd(key, `${last}-1`, 'end', '1');
          pipeline.pexpire(key, retentionMs);
        } else if (now - s.expiresRefreshedAt > OPEN_TTL_REFRESH_MS) {
          s.expiresRefreshedAt = now;
          pipeline.pexpire(key, OPEN_TTL_MS);
        }
        batch.push({ streamId, s, entries, closing });
      }
      if (batch.length === 0) return;
      pipeline.publish(wakeChannel, batch.map((b) => b.streamId).join(' '));
      const results = await pipeline.exec().catch((err: unknown) => [[err, null]] as [Error | null, unknown][]);
      failed = (results ?? []).some(([err]) => err && !isAlreadyWritten(err));
      for (const b of batch) {
        if (failed) {
          // Back in front of whatever came since; sent again when Redis is back (an entry that
          // did get through is answered "equal or smaller" then, which counts as written).
          b.s.pending = b.entries.concat(b.s.pending);
          dirty.add(b.streamId);
          if (b.s.pending.length > maxPending) {
            b.s.lost = true;
            b.s.pending = [];
            dirty.delete(b.streamId);
          }
          continue;
        }
        if (b.entries.length > 0) b.s.written = b.entries[b.entries.length - 1]![0];
        if (b.closing) shared.delete(b.streamId);
      }
    } finally {
      flushing = false;
    }
    // Whatever was appended during the round trip; what failed, a little later (or once Redis is
    // back: onReady).
    if (dirty.size > 0 && link.isReady()) {
      if (failed) setTimeout(scheduleFlush, 200).unref();
      else scheduleFlush();
    }
  };

  const fetch = async (streamId: string, after: string): Promise<{ exists: boolean; entries: [string, string[]][] }> => {
    const key = keyOf(streamId);
    const [range, exists] = await Promise.all([redis.xrange(key, `(${after}`, '+', 'COUNT', BATCH), redis.exists(key)]);
    return { exists: exists === 1 || range.length > 0, entries: range };
  };

  const log: RedisStreamLog<T> = {
    async open(streamId) {
      await local.open(streamId);
      const s: SharedStream = { pending: [], written: 0, closing: false, lost: false, reseed: false, expiresRefreshedAt: Date.now() };
      try {
        // A stream left under this id (a client-chosen message id used again after its
        // conversation was deleted) is replaced, never continued.
        const results = await redis.multi().del(keyOf(streamId)).xadd(keyOf(streamId), '0-1', 'open', '1').pexpire(keyOf(streamId), OPEN_TTL_MS).exec();
        const failed = results?.find(([err]) => err);
        if (!results || failed) throw failed?.[0] ?? new Error('the transaction was discarded');
        shared.set(streamId, s);
      } catch (err) {
        // Still served here from memory; other instances fall back to the stored message.
        throw new StreamLogUnavailableError(`stream ${streamId} is not shared: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    append(streamId, id, data) {
      local.append(streamId, id, data);
      const s = shared.get(streamId);
      if (!s || s.lost) return;
      s.pending.push([id, JSON.stringify(data)]);
      dirty.add(streamId);
      scheduleFlush();
    },
    close(streamId) {
      local.close(streamId);
      const s = shared.get(streamId);
      if (!s || s.lost) {
        shared.delete(streamId);
        return;
      }
      s.closing = true;
      dirty.add(streamId);
      scheduleFlush();
    },
    async read(streamId, afterId, signal) {
      const here = local.readLocal(streamId, afterId, signal);
      if (here) return here;
      if (!link.isReady()) throw new StreamLogUnavailableError('the shared stream log (Redis) is unreachable');
      const after = Math.max(0, Math.floor(afterId));
      let first;
      try {
        first = await fetch(streamId, `${after}-0`);
      } catch (err) {
        throw new StreamLogUnavailableError(`the shared stream log (Redis) is unreachable: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!first.exists) return undefined;
      const reader = new RemoteReader<T>(streamId, after, signal, fetch, (r) => {
        const set = tails.get(streamId);
        if (!set) return;
        set.delete(r);
        if (set.size === 0) tails.delete(streamId);
      });
      let set = tails.get(streamId);
      if (!set) tails.set(streamId, (set = new Set()));
      set.add(reader);
      reader.take(first.entries);
      return reader;
    },
    async endOrphan(streamId, last) {
      const key = keyOf(streamId);
      const top = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      const topId = top[0]?.[0];
      if (!topId) return;
      const [ms, seq] = topId.split('-').map(Number) as [number, number];
      // Already closed (`N-1` after an event N ≥ 1): nothing to add.
      if (seq === 1 && ms > 0) return;
      const id = ms + 1;
      try {
        await redis
          .multi()
          .xadd(key, `${id}-0`, 'd', JSON.stringify(last(id)))
          .xadd(key, `${id}-1`, 'end', '1')
          .pexpire(key, retentionMs)
          .publish(wakeChannel, streamId)
          .exec();
      } catch (err) {
        // Another instance ended it first.
        if (!isAlreadyWritten(err)) throw err;
      }
    },
    size: () => local.size(),
    async dispose() {
      // The last events (the final `message_end`s of drained turns) go out first, if Redis is there.
      for (let tries = 0; tries < 50 && link.isReady() && dirty.size > 0; tries++) {
        await flush();
        await new Promise((r) => setTimeout(r, 10));
      }
      offReady();
      (await unsubscribe)();
      for (const readers of [...tails.values()]) for (const r of [...readers]) r.end();
    },
  };
  return log;
}

function isAlreadyWritten(err: unknown): boolean {
  return err instanceof Error && /equal or smaller/i.test(err.message);
}

type Fetch = (streamId: string, after: string) => Promise<{ exists: boolean; entries: [string, string[]][] }>;

/**
 * One reader of a stream written on another instance: an async iterator object (an open stream
 * waits in it for its whole life; see MappedStream), holding at most one fetched batch.
 */
class RemoteReader<T> implements AsyncIterableIterator<StreamEntry<T>> {
  #buffer: StreamEntry<T>[] = [];
  #index = 0;
  /** The last entry id read (`N-0`, `N-1` or `0-1`). */
  #pos: string;
  #ended = false;
  /** A wake-up arrived while fetching: look again before waiting. */
  #dirty = false;
  /** Fetches in a row that found the stream missing. */
  #missing = 0;
  #waiting: (() => void) | undefined;
  readonly #onAbort = () => this.end();

  constructor(
    readonly streamId: string,
    after: number,
    private readonly signal: AbortSignal | undefined,
    private readonly fetchAfter: Fetch,
    private readonly forget: (reader: RemoteReader<T>) => void,
  ) {
    this.#pos = `${after}-0`;
    if (signal?.aborted) this.#ended = true;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Takes a fetched batch: events into the buffer, the end marker ends the reader after them. */
  take(entries: [string, string[]][]): void {
    if (this.#index >= this.#buffer.length) {
      this.#buffer = [];
      this.#index = 0;
    }
    for (const [entryId, fields] of entries) {
      this.#pos = entryId;
      const dash = entryId.indexOf('-');
      const n = Number(entryId.slice(0, dash));
      const seq = entryId.slice(dash + 1);
      if (seq === '0' && fields[0] === 'd') this.#buffer.push({ id: n, data: JSON.parse(fields[1] ?? 'null') as T });
      else if (fields[0] === 'end') this.#ended = true;
    }
  }

  wake(): void {
    this.#dirty = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  end(): void {
    this.#ended = true;
    this.#buffer = [];
    this.#index = 0;
    this.signal?.removeEventListener('abort', this.#onAbort);
    this.forget(this);
    this.wake();
  }

  async next(): Promise<IteratorResult<StreamEntry<T>>> {
    for (;;) {
      if (this.#index < this.#buffer.length) return { value: this.#buffer[this.#index++]!, done: false };
      if (this.#ended || this.signal?.aborted) {
        this.end();
        return { value: undefined, done: true };
      }
      this.#dirty = false;
      const { exists, entries } = await this.fetchAfter(this.streamId, this.#pos).catch(() => ({ exists: true, entries: [] }));
      if (!exists) {
        // Gone while followed: Redis restarted empty (the writer is about to write it again
        // whole: look again a few times), or it expired or was given up — then the stored
        // message stands for it and the client re-attaches to get it.
        if (this.#missing++ < MISSING_RETRIES) {
          await new Promise((r) => setTimeout(r, MISSING_RETRY_MS));
          continue;
        }
        this.end();
        return { value: undefined, done: true };
      }
      this.#missing = 0;
      this.take(entries);
      if (entries.length > 0 || this.#dirty) continue;
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
    }
  }

  return(): Promise<IteratorResult<StreamEntry<T>>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
