import { randomUUID } from 'node:crypto';
import { createMemoryPresence } from '../presence/memory-presence.ts';
import type { PresenceRegistry } from '../presence/types.ts';
import { connectRedis, type RedisLink } from '../redis/redis-link.ts';
import { createRedisPresence } from '../redis/redis-presence.ts';
import { createRedisSlotLimiter } from '../redis/redis-slot-limiter.ts';
import { createRedisStopSignals } from '../redis/redis-stop-signals.ts';
import { createRedisStreamLog } from '../redis/redis-stream-log.ts';
import { createMemoryStreamLog } from '../stream-log/memory-stream-log.ts';
import type { StreamLog } from '../stream-log/types.ts';
import { createMemorySlotLimiter, type SlotLimiter } from './slot-limiter.ts';
import { createLocalStopSignals, type StopSignals } from './stop-signals.ts';

/** What the rest of the system may know of the live state (no client library's types). */
export interface LiveInfo {
  readonly kind: 'memory' | 'redis';
  /** This instance's id: the owner recorded on its turns, its lease row, its Redis channels. */
  readonly instanceId: string;
  /** Readiness: resolves when the shared state answers (at once in-process). */
  ping(): Promise<void>;
}

/**
 * Everything an instance keeps live (not in the store): the stream log, presence, generation
 * slots and stop signals — in-process (one instance), or shared through Redis (REDIS_URL).
 */
export interface LiveState<T> extends LiveInfo {
  readonly streamLog: StreamLog<T>;
  readonly presence: PresenceRegistry;
  readonly slots: SlotLimiter;
  readonly stops: StopSignals;
  /** The Redis connections, when shared (also for the rate limiter's and the video relay's use). */
  readonly redis: RedisLink | undefined;
  /** After presence was closed and the turns drained: lets go of everything (Redis records of this instance, connections). */
  dispose(): Promise<void>;
}

export interface LiveStateOptions {
  /** Share through this Redis; in-process when absent. */
  redisUrl?: string;
  /** REDIS_PREFIX (default `colloquy:`). */
  redisPrefix?: string;
  instanceId?: string;
  /** STREAM_RETENTION_MS. */
  streamRetentionMs?: number;
  /** PRESENCE_TIMEOUT_MS. */
  presenceTimeoutMs: number;
  /** MAX_CLIENTS_PER_USER (0 or absent: unlimited). */
  maxClientsPerUser?: number;
  /** How long a generation slot of a dead instance stays taken (its lease). */
  slotLeaseMs: number;
}

/** The in-process live state (one instance; REDIS_URL unset). */
export function createMemoryLiveState<T>(options: Omit<LiveStateOptions, 'redisUrl' | 'redisPrefix'>): LiveState<T> {
  const instanceId = options.instanceId ?? randomUUID();
  const maxPerUser = options.maxClientsPerUser || undefined;
  {
    const presence = createMemoryPresence({ timeoutMs: options.presenceTimeoutMs, maxPerUser });
    const slots = createMemorySlotLimiter();
    return {
      kind: 'memory',
      instanceId,
      streamLog: createMemoryStreamLog<T>({ retentionMs: options.streamRetentionMs }),
      presence,
      slots,
      stops: createLocalStopSignals(instanceId),
      redis: undefined,
      ping: () => Promise.resolve(),
      async dispose() {
        presence.close();
        slots.close();
      },
    };
  }
}

/** Opens the live state; with `redisUrl`, fails (RedisConnectError, naming REDIS_URL) when Redis does not answer. */
export async function openLiveState<T>(options: LiveStateOptions): Promise<LiveState<T>> {
  if (!options.redisUrl) return createMemoryLiveState<T>(options);
  const instanceId = options.instanceId ?? randomUUID();
  const maxPerUser = options.maxClientsPerUser || undefined;
  const link = await connectRedis({ url: options.redisUrl, prefix: options.redisPrefix ?? 'colloquy:' });
  try {
    const streamLog = createRedisStreamLog<T>({ link, retentionMs: options.streamRetentionMs });
    const presence = await createRedisPresence({ link, instanceId, timeoutMs: options.presenceTimeoutMs, maxPerUser });
    const slots = createRedisSlotLimiter({ link, instanceId, leaseMs: options.slotLeaseMs });
    const stops = await createRedisStopSignals(link, instanceId);
    return {
      kind: 'redis',
      instanceId,
      streamLog,
      presence,
      slots,
      stops,
      redis: link,
      ping: () => link.ping(),
      async dispose() {
        await presence.dispose();
        slots.close();
        stops.dispose();
        await streamLog.dispose();
        await link.close();
      },
    };
  } catch (err) {
    await link.close();
    throw err;
  }
}
