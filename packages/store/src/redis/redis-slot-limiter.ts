import type { SlotLimiter } from '../live/slot-limiter.ts';
import type { RedisLink } from './redis-link.ts';

/**
 * Takes a slot: drops expired ones, then adds ours if the owner has fewer than the limit.
 * Times come from the Redis server's clock, so instances whose clocks differ agree on expiry.
 * KEYS[1] the owner's slots; ARGV: member, lease ms, limit.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return 1
`;

/**
 * Extends the lease of a slot this instance holds — adding it again if it is gone (Redis
 * restarted empty), so a running turn keeps counting. KEYS[1] the owner's slots; ARGV: member, lease ms.
 */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return 1
`;

export interface RedisSlotLimiterOptions {
  link: RedisLink;
  /** This instance (slots are named by it, so two instances never mistake each other's). */
  instanceId: string;
  /** A slot not renewed for this long is free again (its instance died). Renewed every third of it. */
  leaseMs: number;
}

/**
 * Slots counted across every instance: per owner a sorted set of `instance|slot` members scored
 * by when their lease ends. The instance renews the leases of the slots it holds every third of
 * the lease time (one pipelined script call per held slot); a dead instance stops renewing and
 * its slots come back within `leaseMs`.
 */
export function createRedisSlotLimiter(options: RedisSlotLimiterOptions): SlotLimiter {
  const { link, instanceId, leaseMs } = options;
  const redis = link.command;
  const keyOf = (owner: string) => `${link.prefix}slots:${owner}`;
  const memberOf = (slotId: string) => `${instanceId}|${slotId}`;
  /** Held here: slot id → owner. */
  const held = new Map<string, string>();

  const renew = () => {
    for (const [slotId, owner] of held) {
      redis.eval(RENEW, 1, keyOf(owner), memberOf(slotId), leaseMs).catch(() => undefined);
    }
  };
  const timer = setInterval(renew, Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  const offReady = link.onReady(renew);

  return {
    async acquire(owner, slotId, limit) {
      if (limit <= 0) return true;
      const granted = (await redis.eval(ACQUIRE, 1, keyOf(owner), memberOf(slotId), leaseMs, limit)) === 1;
      if (granted) held.set(slotId, owner);
      return granted;
    },
    release(owner, slotId) {
      if (!held.delete(slotId)) return;
      // Unreachable Redis: the lease is no longer renewed and expires by itself.
      redis.zrem(keyOf(owner), memberOf(slotId)).catch(() => undefined);
    },
    held: () => held.size,
    close() {
      clearInterval(timer);
      offReady();
    },
  };
}
