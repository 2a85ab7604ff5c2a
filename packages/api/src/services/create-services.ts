import type { Agent } from '@colloquy/agents';
import { createMemoryLiveState, type LiveState, type Store } from '@colloquy/store';
import type { StreamEvent } from '../schemas/stream-event.ts';
import { createAgentRegistry } from './agent-registry.ts';
import { createBlobStore, createDatabaseBlobStore, type BlobStore } from './blob-store.ts';
import { createByteBudget } from './byte-budget.ts';
import { noTurnObserver, silentLogger, type Logger, type TurnObserver } from './observability.ts';
import { createTurnService, DEFAULT_INSTANCE_LEASE_MS } from './turn-service.ts';
import { DEFAULT_PRESENCE_TIMEOUT_MS, type ApiConfig } from './api-config.ts';
import type { Services } from './container.ts';

export interface ServicesOptions {
  config: ApiConfig;
  store: Store;
  agents: Agent[];
  defaultAgent: string;
  /** Where file contents are kept when no `blobs` store is given (DATA_DIR/blobs). */
  blobDir: string;
  /**
   * File contents; default: in the database with PostgreSQL (instances share no disk), files
   * under `blobDir` with SQLite (one machine). Uploads are staged under `blobDir` either way.
   */
  blobs?: BlobStore;
  /**
   * The stream log, presence, generation slots and stop signals: in-process (default, built
   * from the options below) or shared through Redis (`openLiveState` with REDIS_URL).
   */
  live?: LiveState<StreamEvent>;
  streamRetentionMs?: number;
  flushIntervalMs?: number;
  /** How long an instance's lease lasts without renewal (INSTANCE_LEASE_MS). */
  instanceLeaseMs?: number;
  /** Where the services log (agent failures and the like); silent when absent. */
  logger?: Logger;
  /** Told about each turn's start, first token and end (the server's metrics). */
  turnObserver?: TurnObserver;
  /** Connected clients one user may have at once (for the default in-process presence). */
  maxClientsPerUser?: number;
}

/** Wires the long-lived services the procedures use. */
export function createServices(options: ServicesOptions): Services {
  const { config, store } = options;
  const instanceLeaseMs = options.instanceLeaseMs ?? DEFAULT_INSTANCE_LEASE_MS;
  const live =
    options.live ??
    createMemoryLiveState<StreamEvent>({
      streamRetentionMs: options.streamRetentionMs,
      presenceTimeoutMs: config.presenceTimeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS,
      maxClientsPerUser: options.maxClientsPerUser,
      slotLeaseMs: instanceLeaseMs,
    });
  const agents = createAgentRegistry(options.agents, options.defaultAgent);
  const blobs =
    options.blobs ?? (store.kind === 'postgres' ? createDatabaseBlobStore(store.blobContents, options.blobDir) : createBlobStore(options.blobDir));
  const logger = options.logger ?? silentLogger;
  const turns = createTurnService({
    config,
    store,
    streamLog: live.streamLog,
    agents,
    blobs,
    slots: live.slots,
    stops: live.stops,
    instanceId: live.instanceId,
    instanceLeaseMs,
    flushIntervalMs: options.flushIntervalMs,
    logger,
    observer: options.turnObserver ?? noTurnObserver,
  });
  const uploadMemory = createByteBudget(config.uploadMemoryTotal ?? Number.POSITIVE_INFINITY);
  return { config, store, streamLog: live.streamLog, agents, turns, blobs, logger, presence: live.presence, live, uploadMemory };
}
