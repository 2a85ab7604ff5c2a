import { mkdirSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ApiConfig } from '@colloquy/api';
import { SQLITE_DRIVER_CHOICES } from '@colloquy/store';
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

/** `MAX_FILE_BYTES` → `maxFileBytes`: a variable's setting name. */
type SettingName<V extends string> = V extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<SettingName<Tail>>}` : Lowercase<V>;

const settingName = (variable: string): string => variable.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

type Env = z.output<typeof envSchema>;

/** Every parsed variable under its setting name, as the schema made it. */
type EnvSettings = { [V in keyof Env & string as SettingName<V>]: Env[V] };

/**
 * Variables that are not settings as they are: read into the settings below (agents, upstream
 * defaults, keys, origins, hosts, proxies, upload roots and memory, the database's default file).
 */
type ReadFurther =
  | 'colloquyConfig'
  | 'difyBaseUrl'
  | 'difyApiKey'
  | 'openaiBaseUrl'
  | 'openaiApiKey'
  | 'openaiModel'
  | 'upstreamFirstByteTimeoutMs'
  | 'upstreamIdleTimeoutMs'
  | 'upstreamPingIntervalMs'
  | 'upstreamMaxRetries'
  | 'apiKeys'
  | 'corsOrigins'
  | 'allowedHosts'
  | 'trustProxy'
  | 'uploadRoots'
  | 'uploadMemoryPerRequest'
  | 'uploadMemoryTotal'
  | 'databaseUrl'
  | 'defaultAgent';

/**
 * The server's settings: every variable of the schema above under its setting name (see the
 * README's configuration table for each), and what the rest are read into.
 */
export type ServerConfig = Omit<EnvSettings, ReadFurther> & {
  /** DATABASE_URL, else the SQLite file in DATA_DIR. */
  databaseUrl: string;
  /** UPLOAD_ROOTS resolved to real paths (default DATA_DIR/inbox). */
  uploadRoots: string[];
  /** DEFAULT_AGENT, else the config file's, else `local`; always a configured agent. */
  defaultAgent: string;
  /** Every configured agent (local always among them). */
  agents: AgentConfig[];
  /** Timeouts and retries for upstream agents unless an agent overrides them. */
  upstream: UpstreamDefaults;
  /** The parsed COLLOQUY_CONFIG file, if one is set. */
  configFile: ConfigFile | undefined;
  /** File content (text files read whole for extraction) one upload-by-path request may hold in memory. */
  uploadMemoryPerRequest: number;
  /** File content held in memory at once by all uploads of the process (the rest wait). */
  uploadMemoryTotal: number;
  /** API keys from API_KEYS and the config file's `apiKeys`; empty means the server runs open. */
  apiKeys: ApiKeyEntry[];
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
};

/** The parsed variables under their setting names (those in ReadFurther are replaced by loadConfig). */
function envSettings(e: Env): EnvSettings {
  return Object.fromEntries(Object.entries(e).map(([variable, value]) => [settingName(variable), value])) as EnvSettings;
}

/** The router's settings: the server's settings of the same names, and whether keys are required. */
const API_SETTINGS = [
  'defaultUser',
  'uploadRoots',
  'maxFileBytes',
  'maxFilesPerBatch',
  'uploadMemoryPerRequest',
  'uploadMemoryTotal',
  'maxFilesPerTurn',
  'maxQueryChars',
  'maxConcurrentTurnsPerUser',
  'presenceTimeoutMs',
] as const satisfies ReadonlyArray<keyof ApiConfig & keyof ServerConfig>;
// Every ApiConfig setting is one of the server's (or requireApiKey, derived below): a new one must be listed.
const _everyApiSetting: Record<Exclude<keyof ApiConfig, (typeof API_SETTINGS)[number] | 'requireApiKey'>, never> = {};

export function apiConfigOf(config: ServerConfig): ApiConfig {
  const picked = Object.fromEntries(API_SETTINGS.map((name) => [name, config[name]])) as Pick<ServerConfig, (typeof API_SETTINGS)[number]>;
  return { ...picked, requireApiKey: config.apiKeys.length > 0 };
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
  const {
    colloquyConfig: _colloquyConfig,
    difyBaseUrl: _difyBaseUrl,
    difyApiKey: _difyApiKey,
    openaiBaseUrl: _openaiBaseUrl,
    openaiApiKey: _openaiApiKey,
    openaiModel: _openaiModel,
    upstreamFirstByteTimeoutMs,
    upstreamIdleTimeoutMs,
    upstreamPingIntervalMs,
    upstreamMaxRetries,
    apiKeys: _apiKeys,
    corsOrigins: _corsOrigins,
    allowedHosts: _allowedHosts,
    trustProxy: _trustProxy,
    uploadRoots: _uploadRoots,
    uploadMemoryPerRequest: _uploadMemoryPerRequest,
    uploadMemoryTotal: _uploadMemoryTotal,
    databaseUrl,
    defaultAgent: _defaultAgent,
    ...settings
  } = envSettings(e);
  return {
    ...settings,
    dataDir,
    databaseUrl: databaseUrl ?? join(dataDir, 'colloquy.sqlite'),
    uploadRoots,
    defaultAgent,
    agents,
    upstream: {
      firstByteTimeoutMs: upstreamFirstByteTimeoutMs,
      idleTimeoutMs: upstreamIdleTimeoutMs,
      pingIntervalMs: upstreamPingIntervalMs,
      maxRetries: upstreamMaxRetries,
    },
    configFile,
    uploadMemoryPerRequest: uploadMemory.perRequest,
    uploadMemoryTotal: uploadMemory.total,
    apiKeys,
    corsOrigins,
    allowedHosts,
    trustProxy,
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
