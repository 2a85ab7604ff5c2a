import type { LiveInfo, PresenceRegistry, Store, StreamLog } from '@colloquy/store';
import type { StreamEvent } from '../schemas/stream-event.ts';
import type { AgentRegistry } from './agent-registry.ts';
import type { ApiConfig } from './api-config.ts';
import type { BlobStore } from './blob-store.ts';
import type { ByteBudget } from './byte-budget.ts';
import type { Logger } from './observability.ts';
import type { TurnService } from './turn-service.ts';

/** Everything long-lived the procedures use; built once by the composition root. */
export interface Services {
  config: ApiConfig;
  store: Store;
  streamLog: StreamLog<StreamEvent>;
  blobs: BlobStore;
  agents: AgentRegistry;
  turns: TurnService;
  logger: Logger;
  /** Connected clients (presence). */
  presence: PresenceRegistry;
  /** File content held in memory at once (text extraction of uploads), across the process. */
  uploadMemory: ByteBudget;
  /** Whether live state is in-process or shared through Redis, this instance's id, readiness. */
  live: LiveInfo;
}
