/**
 * Concurrent slots per owner (the per-user generation limit): a turn takes a slot when it starts
 * and gives it back when it ends. In-process (`createMemorySlotLimiter`) or counted across every
 * instance through Redis (`createRedisSlotLimiter`), where each slot is a lease with an expiry
 * its instance renews, so the slots of an instance that died come back by themselves.
 */
export interface SlotLimiter {
  /** Takes one of `owner`'s `limit` slots for `slotId`; false when all are taken. */
  acquire(owner: string, slotId: string, limit: number): Promise<boolean>;
  /** Gives the slot back (unknown slots are ignored). */
  release(owner: string, slotId: string): void;
  /** Slots this process holds (for tests and metrics). */
  held(): number;
  close(): void;
}

export function createMemorySlotLimiter(): SlotLimiter {
  const perOwner = new Map<string, Set<string>>();
  let held = 0;
  return {
    acquire(owner, slotId, limit) {
      let slots = perOwner.get(owner);
      if (slots?.has(slotId)) return Promise.resolve(true);
      if (limit > 0 && (slots?.size ?? 0) >= limit) return Promise.resolve(false);
      if (!slots) perOwner.set(owner, (slots = new Set()));
      slots.add(slotId);
      held += 1;
      return Promise.resolve(true);
    },
    release(owner, slotId) {
      const slots = perOwner.get(owner);
      if (!slots?.delete(slotId)) return;
      held -= 1;
      if (slots.size === 0) perOwner.delete(owner);
    },
    held: () => held,
    close() {
      perOwner.clear();
      held = 0;
    },
  };
}
