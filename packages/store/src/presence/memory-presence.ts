import {
  PresenceLimitError,
  type AttachInput,
  type ClientRecord,
  type LeaveReason,
  type PresenceEvent,
  type PresenceLease,
  type PresenceRegistry,
} from './types.ts';

export interface MemoryPresenceOptions {
  /**
   * A client with no sign of life for this long is gone. The registry removes it after 80% of
   * this time and sweeps every 20% of it, so a client disappears at most `timeoutMs` after its
   * last sign of life; clients should heartbeat every 25% of it (see `heartbeatIntervalMs`).
   */
  timeoutMs: number;
  /** Connected clients one user may have at once (PresenceLimitError beyond). Default unlimited. */
  maxPerUser?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** How often a client should show a sign of life for a registry with this timeout. */
export const heartbeatIntervalMs = (timeoutMs: number): number => Math.max(1, Math.floor(timeoutMs / 4));

interface Entry {
  record: ClientRecord;
  leases: Set<Lease>;
}

interface Lease extends PresenceLease {
  controller: AbortController;
  released: boolean;
}

/** A client's key: its user and its id (user ids have no control characters, so NUL separates them). */
const keyOf = (userId: string, id: string): string => `${userId}\u0000${id}`;

/** The in-process registry, with the synchronous forms the shared registry builds on. */
export interface MemoryPresence extends PresenceRegistry {
  /** `attach`, synchronously. */
  hold(input: AttachInput): PresenceLease;
  /** `touch`, synchronously: false when this process holds no such client. */
  touchLocal(userId: string, id: string): boolean;
  /** The record, if this process holds the client. */
  local(userId: string, id: string): ClientRecord | undefined;
}

export function createMemoryPresence(options: MemoryPresenceOptions): MemoryPresence {
  const now = options.now ?? Date.now;
  const staleAfterMs = Math.max(1, Math.floor(options.timeoutMs * 0.8));
  const sweepEveryMs = Math.max(10, Math.floor(options.timeoutMs * 0.2));
  const maxPerUser = options.maxPerUser ?? Number.POSITIVE_INFINITY;
  /** By `keyOf(userId, id)`. */
  const entries = new Map<string, Entry>();
  const perUser = new Map<string, number>();
  const listeners = new Set<(event: PresenceEvent) => void>();
  let publishing = 0;
  let closed = false;

  const snapshot = (record: ClientRecord): ClientRecord => ({ ...record, metadata: { ...record.metadata } });
  const emit = (event: PresenceEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break presence for everyone else.
      }
    }
  };

  const remove = (entry: Entry, reason: LeaveReason) => {
    const { record } = entry;
    const key = keyOf(record.userId, record.id);
    if (entries.get(key) !== entry) return;
    entries.delete(key);
    const left = (perUser.get(record.userId) ?? 1) - 1;
    if (left > 0) perUser.set(record.userId, left);
    else perUser.delete(record.userId);
    if (record.publishing) publishing -= 1;
    for (const lease of entry.leases) {
      if (!lease.released) {
        lease.released = true;
        lease.controller.abort(new Error(`client ${reason}`));
      }
    }
    entry.leases.clear();
    emit({ type: 'left', client: snapshot(record), reason });
  };

  const timer = setInterval(() => registry.sweep(), sweepEveryMs);
  timer.unref();

  const registry: MemoryPresence = {
    attach(input) {
      try {
        return Promise.resolve(registry.hold(input));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    hold({ id, userId, details = {}, overwrite = false }) {
      if (closed) throw new Error('the presence registry is closed');
      const key = keyOf(userId, id);
      let entry = entries.get(key);
      const at = now();
      if (!entry) {
        if ((perUser.get(userId) ?? 0) >= maxPerUser) {
          throw new PresenceLimitError(`at most ${maxPerUser} connected clients per user`);
        }
        entry = {
          record: {
            id,
            userId,
            kind: details.kind ?? 'unknown',
            name: details.name ?? null,
            ip: details.ip ?? null,
            userAgent: details.userAgent ?? null,
            metadata: details.metadata ?? {},
            connectedAt: at,
            lastSeen: at,
            openStreams: 0,
            publishing: false,
          },
          leases: new Set(),
        };
        entries.set(key, entry);
        perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
        emit({ type: 'joined', client: snapshot(entry.record) });
      } else {
        entry.record.lastSeen = at;
        if (overwrite) {
          const defined = Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
          Object.assign(entry.record, defined);
          emit({ type: 'changed', client: snapshot(entry.record) });
        }
      }
      const held = entry;
      const controller = new AbortController();
      const lease: Lease = {
        userId,
        clientId: id,
        controller,
        signal: controller.signal,
        released: false,
        release() {
          if (lease.released) return;
          lease.released = true;
          held.leases.delete(lease);
          if (held.leases.size === 0) remove(held, 'closed');
        },
      };
      entry.leases.add(lease);
      return lease;
    },

    touchLocal(userId, id) {
      const entry = entries.get(keyOf(userId, id));
      if (!entry) return false;
      entry.record.lastSeen = now();
      return true;
    },

    touch(userId, id) {
      return Promise.resolve(registry.touchLocal(userId, id));
    },

    local(userId, id) {
      const entry = entries.get(keyOf(userId, id));
      return entry ? snapshot(entry.record) : undefined;
    },

    setPublishing(userId, id, value) {
      const entry = entries.get(keyOf(userId, id));
      if (!entry || entry.record.publishing === value) return;
      entry.record.publishing = value;
      publishing += value ? 1 : -1;
      entry.record.lastSeen = now();
      emit({ type: 'changed', client: snapshot(entry.record) });
    },

    adjustStreams(userId, id, delta) {
      const entry = entries.get(keyOf(userId, id));
      if (!entry || delta === 0) return;
      entry.record.openStreams = Math.max(0, entry.record.openStreams + delta);
      entry.record.lastSeen = now();
      emit({ type: 'changed', client: snapshot(entry.record) });
    },

    get(userId, id) {
      const entry = entries.get(keyOf(userId, id));
      return Promise.resolve(entry ? snapshot(entry.record) : undefined);
    },

    findById(id, limit) {
      const out: ClientRecord[] = [];
      for (const { record } of entries.values()) {
        if (out.length >= limit) break;
        if (record.id === id) out.push(snapshot(record));
      }
      return Promise.resolve(out);
    },

    list(userId) {
      const out: ClientRecord[] = [];
      for (const { record } of entries.values()) if (userId === undefined || record.userId === userId) out.push(snapshot(record));
      return Promise.resolve(out);
    },

    count: () => entries.size,
    publishingCount: () => publishing,

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    sweep(at = now()) {
      let removed = 0;
      for (const entry of [...entries.values()]) {
        if (at - entry.record.lastSeen >= staleAfterMs) {
          remove(entry, 'timeout');
          removed += 1;
        }
      }
      return removed;
    },

    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const entry of [...entries.values()]) remove(entry, 'shutdown');
      listeners.clear();
    },
  };
  return registry;
}
