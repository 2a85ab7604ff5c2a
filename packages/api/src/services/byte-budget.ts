/**
 * A process-wide budget of bytes held in memory at once (file content read whole to extract
 * its text). Callers reserve what they will hold before reading and give it back when done;
 * a reservation that does not fit waits, first come first served, so a burst of large
 * uploads is processed a few at a time instead of all at once. A reservation larger than the
 * whole budget is clamped to it (it then runs alone), so nothing can wait forever.
 */
export interface ByteBudget {
  readonly total: number;
  /** Resolves once `bytes` are reserved; call the returned function (once) to give them back. */
  acquire(bytes: number): Promise<() => void>;
  /** Bytes reserved right now. */
  inUse(): number;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

export function createByteBudget(total: number): ByteBudget {
  let used = 0;
  const queue: Waiter[] = [];

  const reserve = (bytes: number): (() => void) => {
    used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      used -= bytes;
      admit();
    };
  };

  /** Grants waiting reservations in order while the first one fits (no overtaking). */
  const admit = () => {
    while (queue.length > 0 && used + queue[0]!.bytes <= total) queue.shift()!.grant();
  };

  return {
    total,
    acquire(requested) {
      const bytes = Math.min(Math.max(0, Math.ceil(requested)), total);
      if (bytes === 0) return Promise.resolve(() => undefined);
      if (queue.length === 0 && used + bytes <= total) return Promise.resolve(reserve(bytes));
      return new Promise((resolve) => queue.push({ bytes, grant: () => resolve(reserve(bytes)) }));
    },
    inUse: () => used,
  };
}
