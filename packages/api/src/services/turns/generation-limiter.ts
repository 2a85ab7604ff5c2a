import type { SlotLimiter } from '@colloquy/store';
import { AppError } from '../../errors/app-error.ts';

/**
 * MAX_CONCURRENT_TURNS_PER_USER: a turn holds one of its owner's slots from before it is stored
 * until it ends. The slots are a SlotLimiter: in-process, or leases in Redis counted across
 * every instance (a dead instance's slots expire).
 */
export interface GenerationLimiter {
  /** Takes a slot for the turn; a 429 at the limit, a 503 when the shared limiter is unreachable. */
  claim(owner: string, turnId: string): Promise<void>;
  release(owner: string, turnId: string): void;
}

export function createGenerationLimiter(slots: SlotLimiter, limit: number): GenerationLimiter {
  return {
    async claim(owner, turnId) {
      let granted: boolean;
      try {
        granted = await slots.acquire(owner, turnId, limit);
      } catch (err) {
        throw new AppError('SERVICE_UNAVAILABLE', 'the generation limiter is unreachable; try again shortly', { cause: err });
      }
      if (!granted) {
        throw new AppError('TOO_MANY_REQUESTS', `at most ${limit} concurrent generations per user; wait for one to end`, {
          retryAfterSeconds: 1,
        });
      }
    },
    release: (owner, turnId) => slots.release(owner, turnId),
  };
}
