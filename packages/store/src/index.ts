export type * from './types.ts';
export type { StreamEntry, StreamLog } from './stream-log/types.ts';
export { createMemoryStreamLog, type MemoryStreamLogOptions } from './stream-log/memory-stream-log.ts';
export * from './presence/types.ts';
export { createMemoryPresence, heartbeatIntervalMs, type MemoryPresenceOptions } from './presence/memory-presence.ts';
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
