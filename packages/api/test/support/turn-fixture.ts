import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemorySlotLimiter,
  createMemoryStreamLog,
  openSqliteStore,
  type SlotLimiter,
  type StopSignals,
  type Store,
  type StreamLog,
} from '@colloquy/store';
import type { Actor } from '../../src/access.ts';
import type { ApiConfig } from '../../src/services/api-config.ts';
import type { StreamEvent } from '../../src/schemas/stream-event.ts';
import { createAgentRegistry } from '../../src/services/agent-registry.ts';
import { createBlobStore } from '../../src/services/blob-store.ts';
import { createTurnService, type TurnService } from '../../src/services/turn-service.ts';
import type { ScriptedAgent } from './scripted-agent.ts';

export const config: ApiConfig = {
  defaultUser: 'default',
  uploadRoots: [],
  maxFileBytes: 1024,
  maxFilesPerBatch: 5,
  maxFilesPerTurn: 3,
  maxQueryChars: 1000,
  maxConcurrentTurnsPerUser: 2,
};

export const actor = (user: string, isolated = true): Actor => ({ scope: user, owner: user, isolated });

/** An in-memory SQLite store (migrated as any store is). */
export const memoryStore = (): Promise<Store> => openSqliteStore({ filename: ':memory:' });

export interface TurnFixture {
  store: Store;
  log: StreamLog<StreamEvent>;
  turns: TurnService;
  close(): Promise<void>;
}

/** A turn service over a store and scripted agents, as createServices wires it. */
export async function turnFixture(
  agents: ScriptedAgent[],
  options: { store?: Store; log?: StreamLog<StreamEvent>; slots?: SlotLimiter; stops?: StopSignals; instanceId?: string; flushIntervalMs?: number; config?: Partial<ApiConfig> } = {},
): Promise<TurnFixture> {
  const store = options.store ?? (await memoryStore());
  const log = options.log ?? createMemoryStreamLog<StreamEvent>();
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-api-'));
  const turns = createTurnService({
    config: { ...config, ...options.config },
    store,
    streamLog: log,
    agents: createAgentRegistry(agents, agents[0]!.info.id),
    blobs: createBlobStore(join(dir, 'blobs')),
    slots: options.slots ?? createMemorySlotLimiter(),
    stops: options.stops,
    instanceId: options.instanceId,
    flushIntervalMs: options.flushIntervalMs ?? 50,
  });
  await turns.recoverInterrupted();
  return {
    store,
    log,
    turns,
    async close() {
      await turns.drain(0);
      await turns.close();
      if (!options.store) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}
