/**
 * Subscriptions waiting for a turn that has not started yet. A client that chooses its message
 * id (the SDK does) opens `chat.events` alongside `chat.send` instead of after it; the
 * subscription may arrive first, and waits here — keyed by its user and the message id, so only
 * that user's own start wakes it — until the turn starts on this instance, for at most the time
 * it asks (it also looks again by itself, since the turn may start on another instance).
 *
 * Bounded: at most `perUser` waits per user and `total` in all; a wait beyond either is refused
 * (the caller then answers as it would without waiting). A wait that ends for any reason leaves
 * nothing behind (its timer is cleared, its entry removed).
 */
export type WaitOutcome = 'started' | 'timeout' | 'aborted' | 'refused';

interface Waiter {
  settle(outcome: WaitOutcome): void;
}

export class TurnStartWaiters {
  readonly #waiting = new Map<string, Set<Waiter>>();
  readonly #perUserCount = new Map<string, number>();
  #total = 0;

  constructor(private readonly limits: { perUser: number; total: number } = { perUser: 64, total: 10_000 }) {}

  /** How many waits are pending (for tests and metrics). */
  get size(): number {
    return this.#total;
  }

  wait(owner: string, messageId: string, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (signal?.aborted) return Promise.resolve('aborted');
    const used = this.#perUserCount.get(owner) ?? 0;
    if (used >= this.limits.perUser || this.#total >= this.limits.total) return Promise.resolve('refused');
    const key = keyOf(owner, messageId);
    return new Promise<WaitOutcome>((resolve) => {
      let set = this.#waiting.get(key);
      if (!set) this.#waiting.set(key, (set = new Set()));
      const waiters = set;
      const onAbort = () => waiter.settle('aborted');
      const timer = setTimeout(() => waiter.settle('timeout'), ms);
      const waiter: Waiter = {
        settle: (outcome) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (waiters.size === 0 && this.#waiting.get(key) === waiters) this.#waiting.delete(key);
          const left = (this.#perUserCount.get(owner) ?? 1) - 1;
          if (left > 0) this.#perUserCount.set(owner, left);
          else this.#perUserCount.delete(owner);
          this.#total -= 1;
          resolve(outcome);
        },
      };
      waiters.add(waiter);
      this.#perUserCount.set(owner, used + 1);
      this.#total += 1;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The turn `messageId` of `owner` started here: its waiting subscriptions go on. */
  started(owner: string, messageId: string): void {
    const waiters = this.#waiting.get(keyOf(owner, messageId));
    if (!waiters) return;
    for (const w of [...waiters]) w.settle('started');
  }
}

function keyOf(owner: string, messageId: string): string {
  return `${owner}\u0000${messageId}`;
}
