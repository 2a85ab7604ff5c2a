import type { Agent } from '@colloquy/agents';
import { createMemoryPresence, createMemoryStreamLog, type PresenceRegistry, type Store } from '@colloquy/store';
import { DEFAULT_PRESENCE_TIMEOUT_MS } from '../clients/connect.ts';
import type { ApiConfig, Services } from '../context.ts';
import type { StreamEvent } from '../schemas/stream-event.ts';
import { createAgentRegistry } from './agent-registry.ts';
import { createBlobStore } from './blob-store.ts';
import { createByteBudget } from './byte-budget.ts';
import { noTurnObserver, silentLogger, type Logger, type TurnObserver } from './observability.ts';
import { createTurnService } from './turn-service.ts';

export interface ServicesOptions {
  config: ApiConfig;
  store: Store;
  agents: Agent[];
  defaultAgent: string;
  blobDir: string;
  streamRetentionMs?: number;
  flushIntervalMs?: number;
  /** Where the services log (agent failures and the like); silent when absent. */
  logger?: Logger;
  /** Told about each turn's start, first token and end (the server's metrics). */
  turnObserver?: TurnObserver;
  /** Connected clients; default: in-process, with `config.presenceTimeoutMs`. */
  presence?: PresenceRegistry;
  /** Connected clients one user may have at once (for the default presence registry). */
  maxClientsPerUser?: number;
}

/** Wires the long-lived services the procedures use. */
export function createServices(options: ServicesOptions): Services {
  const { config, store } = options;
  const streamLog = createMemoryStreamLog<StreamEvent>({ retentionMs: options.streamRetentionMs });
  const agents = createAgentRegistry(options.agents, options.defaultAgent);
  const blobs = createBlobStore(options.blobDir);
  const logger = options.logger ?? silentLogger;
  const turns = createTurnService({
    config,
    store,
    streamLog,
    agents,
    blobs,
    flushIntervalMs: options.flushIntervalMs,
    logger,
    observer: options.turnObserver ?? noTurnObserver,
  });
  const presence =
    options.presence ??
    createMemoryPresence({
      timeoutMs: config.presenceTimeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS,
      maxPerUser: options.maxClientsPerUser || undefined,
    });
  const uploadMemory = createByteBudget(config.uploadMemoryTotal ?? Number.POSITIVE_INFINITY);
  return { config, store, streamLog, agents, turns, blobs, logger, presence, uploadMemory };
}
