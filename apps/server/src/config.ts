import { mkdirSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { SQLITE_DRIVER_CHOICES, type SqliteDriverChoice } from '@colloquy/store';
import { z } from 'zod';
import { readConfigFile, resolveAgents, type AgentConfig, type ConfigFile, type UpstreamDefaults } from './agents-config.ts';
import { ApiKeyConfigError, mergeApiKeys, parseApiKeys, type ApiKeyEntry } from './security/api-keys.ts';
import { CorsConfigError, isLoopbackHost, parseCorsOrigins, parseTrustProxy, TrustProxyConfigError } from './security/network.ts';
import { AllowedHostsConfigError, parseAllowedHosts } from './security/origin.ts';

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

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'], { error: 'expected 1 or 0 (true/false, yes/no)' })
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  PORT: int(0, 65535).default(5000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: z.string().trim().min(1).optional(),
  SQLITE_DRIVER: z.enum(SQLITE_DRIVER_CHOICES).default('auto'),
  REDIS_URL: z
    .string()
    .trim()
    .url()
    .refine((v) => /^rediss?:\/\//.test(v), 'expected a redis:// or rediss:// URL')
    .optional(),
  REDIS_PREFIX: z.string().trim().min(1).max(64).default('colloquy:'),
  WORKERS: z
    .string()
    .trim()
    .regex(/^(auto|\d{1,3})$/, 'expected a number of processes or auto')
    .transform((v) => (v === 'auto' ? availableParallelism() : Number(v)))
    .pipe(z.number().int().min(1, 'expected at least 1').max(256))
    .default(1),
  INSTANCE_LEASE_MS: int(1000, 600_000).default(15_000),
  UPLOAD_ROOTS: z.string().trim().min(1).optional(),
  DEFAULT_USER: z.string().trim().min(1).max(128).default('default'),
  DEFAULT_RESPONSE_MODE: z.enum(['blocking', 'streaming']).default('blocking'),
  DEFAULT_AGENT: z.string().trim().min(1).optional(),
  COLLOQUY_CONFIG: z.string().trim().min(1).optional(),
  DIFY_BASE_URL: z.string().trim().optional(),
  DIFY_API_KEY: z.string().trim().optional(),
  OPENAI_BASE_URL: z.string().trim().optional(),
  OPENAI_API_KEY: z.string().trim().optional(),
  OPENAI_MODEL: z.string().trim().optional(),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: int(1, 600_000).default(30_000),
  UPSTREAM_IDLE_TIMEOUT_MS: int(1, 3_600_000).default(60_000),
  UPSTREAM_PING_INTERVAL_MS: int(100, 600_000).default(15_000),
  UPSTREAM_MAX_RETRIES: int(0, 10).default(2),
  API_KEYS: z.string().trim().optional(),
  ALLOW_OPEN: flag.default(false),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600),
  MAX_BATCH_SIZE: int(1, 1000).default(10),
  HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5000),
  MAX_CONNECTIONS: int(0, 1_000_000).default(10_000),
  MAX_STREAMS_PER_KEY: int(0, 1_000_000).default(200),
  MAX_STREAMS_PER_IP: int(0, 1_000_000).default(200),
  CORS_ORIGINS: z.string().trim().optional(),
  ALLOWED_HOSTS: z.string().trim().optional(),
  TRUST_PROXY: z.string().trim().optional(),
  MAX_CONCURRENT_TURNS_PER_USER: int(0, 10_000).default(4),
  JSON_BODY_LIMIT: bytes.default(1024 * 1024),
  MAX_FILE_BYTES: bytes.default(20 * 1024 * 1024),
  MAX_FILES_PER_BATCH: int(1, 1000).default(20),
  UPLOAD_MEMORY_PER_REQUEST: bytes.optional(),
  UPLOAD_MEMORY_TOTAL: bytes.optional(),
  MAX_FILES_PER_TURN: int(1, 1000).default(20),
  MAX_QUERY_CHARS: int(1, 1_000_000).default(32_000),
  LOCAL_AGENT_DELTA_DELAY_MS: int(0, 10_000).default(15),
  STREAM_RETENTION_MS: int(1000, 24 * 3600_000).default(5 * 60_000),
  FLUSH_INTERVAL_MS: int(50, 1000).default(1000),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  LOG_LEVEL: z.string().trim().toLowerCase().pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
  READINESS_TIMEOUT_MS: int(50, 60_000).default(2000),
  PRESENCE_TIMEOUT_MS: int(200, 600_000).default(30_000),
  MAX_CLIENTS_PER_USER: int(0, 1_000_000).default(1000),
  MAX_VIDEO_FRAME_BYTES: bytes.default(2 * 1024 * 1024),
  MAX_VIDEO_FPS: int(1, 120).default(30),
  MAX_VIDEO_VIEWERS: int(1, 100_000).default(100),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** Library for a SQLite database: `auto` takes better-sqlite3 when its native binding loads, else libsql. */
  sqliteDriver: SqliteDriverChoice;
  /** Shared live state (stream log, stops, limits, presence, video relay); in-process when unset. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel (several deployments may share one Redis). */
  redisPrefix: string;
  /** Server processes to fork (node:cluster) sharing the port; more than one needs REDIS_URL. */
  workers: number;
  /** How long an instance's lease lasts without renewal; its turns become `interrupted` after it. */
  instanceLeaseMs: number;
  uploadRoots: string[];
  defaultUser: string;
  defaultResponseMode: 'blocking' | 'streaming';
  defaultAgent: string;
  /** Every configured agent (local always among them). */
  agents: AgentConfig[];
  /** Timeouts and retries for upstream agents unless an agent overrides them. */
  upstream: UpstreamDefaults;
  /** The parsed COLLOQUY_CONFIG file, if one is set. */
  configFile: ConfigFile | undefined;
  jsonBodyLimit: number;
  maxFileBytes: number;
  maxFilesPerBatch: number;
  /** File content (text files read whole for extraction) one upload-by-path request may hold in memory. */
  uploadMemoryPerRequest: number;
  /** File content held in memory at once by all uploads of the process (the rest wait). */
  uploadMemoryTotal: number;
  maxFilesPerTurn: number;
  maxQueryChars: number;
  localAgentDeltaDelayMs: number;
  streamRetentionMs: number;
  flushIntervalMs: number;
  shutdownGraceMs: number;
  /** pino level of the JSON log lines written to stdout. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long /readyz waits for the store and each agent before calling it unreachable. */
  readinessTimeoutMs: number;
  /** API keys from API_KEYS and the config file's `apiKeys`; empty means the server runs open. */
  apiKeys: ApiKeyEntry[];
  /** ALLOW_OPEN: run without keys on a non-loopback HOST. */
  allowOpen: boolean;
  /** Requests per minute per API key (per client IP when open); 0 disables rate limiting. */
  rateLimitPerMinute: number;
  /** Calls in one tRPC HTTP batch (400 beyond); each counts against the rate limit. */
  maxBatchSize: number;
  /** A request's line and headers must arrive within this (408, then the socket is closed); idle new connections too. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this (408). Not the answer: streams may last. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections at once; further ones are closed on arrival. 0: no cap. */
  maxConnections: number;
  /** Open streams (SSE subscriptions, NDJSON answers, live-video sockets) per API key; 0: no cap. */
  maxStreamsPerKey: number;
  /** The same per client IP, for callers without a valid key; 0: no cap. */
  maxStreamsPerIp: number;
  /** Origins allowed by CORS (`*` for any); empty means same-origin only. */
  corsOrigins: string[];
  /** Host names requests may name (`*` for any): the defaults and ALLOWED_HOSTS. */
  allowedHosts: string[];
  /**
   * Which peers' X-Forwarded-For is believed for the client address (rate limits, stream caps,
   * logs): none (false), the nearest N proxies, or proxies at these addresses (Express's
   * `trust proxy` values).
   */
  trustProxy: false | number | string[];
  /** Running generations per user; 0 means unlimited. */
  maxConcurrentTurnsPerUser: number;
  /** A connected client with no sign of life for this long is dropped (heartbeats every quarter of it). */
  presenceTimeoutMs: number;
  /** Connected clients per user; 0 means unlimited. */
  maxClientsPerUser: number;
  /** Largest live-video image (one frame); larger ones close the publisher's socket (1009). */
  maxVideoFrameBytes: number;
  /** Frames per second accepted from one publisher (faster ones are dropped). */
  maxVideoFps: number;
  /** Viewers of one publisher at once. */
  maxVideoViewers: number;
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
  if (e.WORKERS > 1 && !e.REDIS_URL) {
    // Workers share nothing in memory: streams, stops, limits and presence must be shared.
    throw new ConfigError(
      `Invalid configuration:\n  WORKERS: ${e.WORKERS} processes need REDIS_URL (their live streams, stops, limits and presence are shared through Redis); set REDIS_URL or WORKERS=1`,
    );
  }
  let configFile: ConfigFile | undefined;
  let agents: AgentConfig[];
  try {
    configFile = e.COLLOQUY_CONFIG ? readConfigFile(resolve(e.COLLOQUY_CONFIG), env) : undefined;
    agents = resolveAgents(configFile, e);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${err instanceof Error ? err.message : String(err)}`);
  }
  const defaultAgent = e.DEFAULT_AGENT ?? configFile?.defaultAgent ?? 'local';
  if (!agents.some((a) => a.id === defaultAgent)) {
    throw new ConfigError(
      `Invalid configuration:\n  DEFAULT_AGENT: "${defaultAgent}" is not a configured agent (have: ${agents.map((a) => a.id).join(', ')})`,
    );
  }
  let apiKeys: ApiKeyEntry[];
  let corsOrigins: string[];
  let allowedHosts: string[];
  let trustProxy: false | number | string[];
  try {
    apiKeys = mergeApiKeys(
      { source: 'API_KEYS', entries: parseApiKeys(e.API_KEYS) },
      { source: 'COLLOQUY_CONFIG apiKeys', entries: configFile?.apiKeys ?? [] },
    );
    corsOrigins = parseCorsOrigins(e.CORS_ORIGINS);
    allowedHosts = parseAllowedHosts(e.ALLOWED_HOSTS, e.HOST);
    trustProxy = parseTrustProxy(e.TRUST_PROXY);
  } catch (err) {
    if (
      !(err instanceof ApiKeyConfigError) &&
      !(err instanceof CorsConfigError) &&
      !(err instanceof AllowedHostsConfigError) &&
      !(err instanceof TrustProxyConfigError)
    ) {
      throw err;
    }
    throw new ConfigError(`Invalid configuration:\n  ${err.message}`);
  }
  if (apiKeys.length === 0 && !e.ALLOW_OPEN && !isLoopbackHost(e.HOST)) {
    // Open mode lets anyone act as any user: never by accident on a reachable address.
    throw new ConfigError(
      `Invalid configuration:\n  HOST: ${e.HOST} is not a loopback address and no API_KEYS are set; ` +
        'set API_KEYS, or ALLOW_OPEN=1 to run without authentication anyway',
    );
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    // Node refuses it too: the headers are part of the request.
    throw new ConfigError(
      `Invalid configuration:\n  HEADERS_TIMEOUT_MS: ${e.HEADERS_TIMEOUT_MS} is more than REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS})`,
    );
  }
  const uploadMemory = uploadMemoryLimits(e.MAX_FILE_BYTES, e.UPLOAD_MEMORY_PER_REQUEST, e.UPLOAD_MEMORY_TOTAL);
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
    sqliteDriver: e.SQLITE_DRIVER,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    workers: e.WORKERS,
    instanceLeaseMs: e.INSTANCE_LEASE_MS,
    uploadRoots,
    defaultUser: e.DEFAULT_USER,
    defaultResponseMode: e.DEFAULT_RESPONSE_MODE,
    defaultAgent,
    agents,
    upstream: {
      firstByteTimeoutMs: e.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      idleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT_MS,
      pingIntervalMs: e.UPSTREAM_PING_INTERVAL_MS,
      maxRetries: e.UPSTREAM_MAX_RETRIES,
    },
    configFile,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    maxFileBytes: e.MAX_FILE_BYTES,
    maxFilesPerBatch: e.MAX_FILES_PER_BATCH,
    uploadMemoryPerRequest: uploadMemory.perRequest,
    uploadMemoryTotal: uploadMemory.total,
    maxFilesPerTurn: e.MAX_FILES_PER_TURN,
    maxQueryChars: e.MAX_QUERY_CHARS,
    localAgentDeltaDelayMs: e.LOCAL_AGENT_DELTA_DELAY_MS,
    streamRetentionMs: e.STREAM_RETENTION_MS,
    flushIntervalMs: e.FLUSH_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    apiKeys,
    allowOpen: e.ALLOW_OPEN,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    maxBatchSize: e.MAX_BATCH_SIZE,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    maxStreamsPerKey: e.MAX_STREAMS_PER_KEY,
    maxStreamsPerIp: e.MAX_STREAMS_PER_IP,
    corsOrigins,
    allowedHosts,
    trustProxy,
    maxConcurrentTurnsPerUser: e.MAX_CONCURRENT_TURNS_PER_USER,
    presenceTimeoutMs: e.PRESENCE_TIMEOUT_MS,
    maxClientsPerUser: e.MAX_CLIENTS_PER_USER,
    maxVideoFrameBytes: e.MAX_VIDEO_FRAME_BYTES,
    maxVideoFps: e.MAX_VIDEO_FPS,
    maxVideoViewers: e.MAX_VIDEO_VIEWERS,
  };
}

const MB = 1024 * 1024;

/**
 * UPLOAD_MEMORY_PER_REQUEST (default 64 MB) and UPLOAD_MEMORY_TOTAL (default 256 MB), each at
 * least as large as what it must hold: one file of MAX_FILE_BYTES fits in a request, one request
 * in the total. Defaults grow with MAX_FILE_BYTES; values set too small stop start-up.
 */
function uploadMemoryLimits(maxFileBytes: number, perRequest: number | undefined, total: number | undefined): { perRequest: number; total: number } {
  const request = perRequest ?? Math.max(64 * MB, maxFileBytes);
  if (request < maxFileBytes) {
    throw new ConfigError(
      `Invalid configuration:\n  UPLOAD_MEMORY_PER_REQUEST: ${request} bytes is less than MAX_FILE_BYTES (${maxFileBytes}); one file must fit`,
    );
  }
  const all = total ?? Math.max(256 * MB, request);
  if (all < request) {
    throw new ConfigError(`Invalid configuration:\n  UPLOAD_MEMORY_TOTAL: ${all} bytes is less than UPLOAD_MEMORY_PER_REQUEST (${request})`);
  }
  return { perRequest: request, total: all };
}
