import type { Agent } from '@colloquy/agents';
import { createMemoryStreamLog, type Store } from '@colloquy/store';
import type { ApiConfig, Services } from '../context.ts';
import type { UnnumberedStreamEvent } from '../schemas/stream-event.ts';
import { createAgentRegistry } from './agent-registry.ts';
import { createBlobStore } from './blob-store.ts';
import { createTurnService } from './turn-service.ts';

export interface ServicesOptions {
  config: ApiConfig;
  store: Store;
  agents: Agent[];
  defaultAgent: string;
  blobDir: string;
  streamRetentionMs?: number;
  flushIntervalMs?: number;
}

/** Wires the long-lived services the procedures use. */
export function createServices(options: ServicesOptions): Services {
  const { config, store } = options;
  const streamLog = createMemoryStreamLog<UnnumberedStreamEvent>({ retentionMs: options.streamRetentionMs });
  const agents = createAgentRegistry(options.agents, options.defaultAgent);
  const turns = createTurnService({ config, store, streamLog, agents, flushIntervalMs: options.flushIntervalMs });
  return { config, store, streamLog, agents, turns, blobs: createBlobStore(options.blobDir) };
}
