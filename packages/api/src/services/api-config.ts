/** Settings the router needs; the server derives them from its parsed environment. */
export interface ApiConfig {
  defaultUser: string;
  /** Directories that upload-by-path may read (already resolved to real paths). */
  uploadRoots: string[];
  maxFileBytes: number;
  maxFilesPerBatch: number;
  /**
   * File content one upload-by-path request may hold in memory at once (its text files, read
   * whole to extract their text; 413 beyond). Unlimited when unset.
   */
  uploadMemoryPerRequest?: number;
  /** File content held in memory at once across the process (uploads wait their turn). Unlimited when unset. */
  uploadMemoryTotal?: number;
  maxFilesPerTurn: number;
  maxQueryChars: number;
  /** Running generations one user may have at once (429 beyond it); unlimited when unset. */
  maxConcurrentTurnsPerUser?: number;
  /**
   * API keys are configured: every request must carry an authenticated principal. The server's
   * auth middleware answers 401 first; this is the router's own backstop.
   */
  requireApiKey?: boolean;
  /** A connected client with no sign of life for this long is gone (clients heartbeat every quarter of it). */
  presenceTimeoutMs?: number;
}

/** When ApiConfig.presenceTimeoutMs is unset. */
export const DEFAULT_PRESENCE_TIMEOUT_MS = 30_000;
