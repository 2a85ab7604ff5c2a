export type * from './types.ts';
export { MESSAGE_STATUSES } from './types.ts';
export { StreamLogUnavailableError, type StreamEntry, type StreamLog } from './stream-log/types.ts';
export { createMemoryStreamLog, type MemoryStreamLog, type MemoryStreamLogOptions } from './stream-log/memory-stream-log.ts';
export * from './presence/types.ts';
export {
  createMemoryPresence,
  heartbeatIntervalMs,
  type MemoryPresence,
  type MemoryPresenceOptions,
} from './presence/memory-presence.ts';
export { createMemorySlotLimiter, type SlotLimiter } from './live/slot-limiter.ts';
export { createLocalStopSignals, type StopSignals } from './live/stop-signals.ts';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite/open-sqlite-store.ts';
export {
  loadSqliteDriver,
  SqliteDriverError,
  SQLITE_DRIVER_CHOICES,
  SQLITE_DRIVERS,
  type SqliteConnection,
  type SqliteDriver,
  type SqliteDriverChoice,
  type SqliteDriverName,
} from './sqlite/sqlite-driver.ts';
export { openPostgresStore, type PostgresStoreOptions } from './postgres/open-postgres-store.ts';
export { openStore, STORE_DRIVERS, type OpenStoreOptions } from './open-store.ts';
export { connectRedis, RedisConnectError, type RedisLink, type RedisLinkOptions } from './redis/redis-link.ts';
export { createRedisStreamLog, type RedisStreamLog, type RedisStreamLogOptions } from './redis/redis-stream-log.ts';
export { createRedisSlotLimiter, type RedisSlotLimiterOptions } from './redis/redis-slot-limiter.ts';
export { createRedisStopSignals } from './redis/redis-stop-signals.ts';
export { createRedisPresence, type RedisPresence, type RedisPresenceOptions } from './redis/redis-presence.ts';
export { createMemoryLiveState, openLiveState, type LiveInfo, type LiveState, type LiveStateOptions } from './live/live-state.ts';
