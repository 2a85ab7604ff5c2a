import { mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/** Byte sizes as plain numbers or with a unit: 512kb, 20mb, 1gb. */
const bytes = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'expected a size such as 1048576, 512kb or 20mb')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v) as RegExpExecArray;
    const unit = (m[2] ?? 'b').toLowerCase();
    const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit] ?? 1;
    return Math.floor(Number(m[1]) * mult);
  });

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT: int(0, 65535).default(5000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: z.string().trim().min(1).optional(),
  REDIS_URL: z.string().trim().url().optional(),
  UPLOAD_ROOTS: z.string().trim().min(1).optional(),
  DEFAULT_USER: z.string().trim().min(1).max(128).default('default'),
  DEFAULT_RESPONSE_MODE: z.enum(['blocking', 'streaming']).default('blocking'),
  DEFAULT_AGENT: z.string().trim().min(1).default('local'),
  API_KEYS: z.string().trim().optional(),
  JSON_BODY_LIMIT: bytes.default(1024 * 1024),
  MAX_FILE_BYTES: bytes.default(20 * 1024 * 1024),
  MAX_FILES_PER_BATCH: int(1, 1000).default(20),
  MAX_FILES_PER_TURN: int(1, 100).default(20),
  MAX_QUERY_CHARS: int(1, 100_000).default(32_000),
  LOCAL_AGENT_DELTA_DELAY_MS: int(0, 10_000).default(15),
  STREAM_RETENTION_MS: int(1000, 24 * 3600_000).default(5 * 60_000),
  FLUSH_INTERVAL_MS: int(50, 1000).default(1000),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  uploadRoots: string[];
  defaultUser: string;
  defaultResponseMode: 'blocking' | 'streaming';
  defaultAgent: string;
  jsonBodyLimit: number;
  maxFileBytes: number;
  maxFilesPerBatch: number;
  maxFilesPerTurn: number;
  maxQueryChars: number;
  localAgentDeltaDelayMs: number;
  streamRetentionMs: number;
  flushIntervalMs: number;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once. A bad value stops start-up with a message naming the variable.
 * Creates DATA_DIR and the default upload root so a fresh checkout runs as is.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.API_KEYS) {
    // Refuse rather than run open while the operator believes keys are enforced.
    throw new ConfigError('API_KEYS is set, but API-key authentication is not available in this build yet; unset it.');
  }
  if (e.REDIS_URL) {
    throw new ConfigError('REDIS_URL is set, but the Redis stream log is not available in this build yet; unset it.');
  }
  const dataDir = resolve(e.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const roots = e.UPLOAD_ROOTS ? e.UPLOAD_ROOTS.split(':').filter(Boolean) : [join(dataDir, 'inbox')];
  const uploadRoots = roots.map((root) => {
    const abs = isAbsolute(root) ? root : resolve(root);
    if (!e.UPLOAD_ROOTS) mkdirSync(abs, { recursive: true });
    try {
      return realpathSync(abs);
    } catch {
      throw new ConfigError(`Invalid configuration:\n  UPLOAD_ROOTS: directory does not exist: ${abs}`);
    }
  });
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? join(dataDir, 'colloquy.sqlite'),
    uploadRoots,
    defaultUser: e.DEFAULT_USER,
    defaultResponseMode: e.DEFAULT_RESPONSE_MODE,
    defaultAgent: e.DEFAULT_AGENT,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    maxFileBytes: e.MAX_FILE_BYTES,
    maxFilesPerBatch: e.MAX_FILES_PER_BATCH,
    maxFilesPerTurn: e.MAX_FILES_PER_TURN,
    maxQueryChars: e.MAX_QUERY_CHARS,
    localAgentDeltaDelayMs: e.LOCAL_AGENT_DELTA_DELAY_MS,
    streamRetentionMs: e.STREAM_RETENTION_MS,
    flushIntervalMs: e.FLUSH_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
}
