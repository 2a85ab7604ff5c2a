import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The external services the service tests use, found once per test file:
 * TEST_DATABASE_URL / TEST_REDIS_URL when set, else the local PostgreSQL and Redis at their
 * default addresses when they answer (so `pnpm test` on a machine that has them runs
 * everything). What is still missing is a skip — named with its reason at the end of the run
 * (see vitest-skips.ts) — except under CI=true, where it is a failure: CI runs every test.
 */
export interface TestServices {
  /** A PostgreSQL URL, or undefined when none is reachable. */
  postgres: string | undefined;
  /** A Redis URL, or undefined when none is reachable. */
  redis: string | undefined;
}

const DEFAULT_POSTGRES = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/postgres'];
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

let found: Promise<TestServices> | undefined;

export function testServices(): Promise<TestServices> {
  found ??= (async () => ({
    postgres: process.env.TEST_DATABASE_URL || (await firstAnswering(DEFAULT_POSTGRES, postgresAnswers)),
    redis: process.env.TEST_REDIS_URL || ((await redisAnswers(DEFAULT_REDIS)) ? DEFAULT_REDIS : undefined),
  }))();
  return found;
}

export const inCi = (): boolean => process.env.CI === 'true';

/**
 * The project's one skip convention, for a suite that needs something a machine may lack (a
 * service, Chromium, a binary, a native driver): whether it can run. `missing` says what is
 * missing (undefined: nothing). Missing under CI=true: throws, so the suite fails (CI runs every
 * test). Missing elsewhere: notes the skip (printed at the end of the run) and returns false.
 */
export function requiredInCi(suite: string, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (inCi()) throw new Error(`${suite}: CI=true but ${missing}: these tests cannot be skipped in CI`);
  noteSkipped(suite, missing);
  return false;
}

/** requiredInCi for a suite needing PostgreSQL or Redis at `url`. */
export function serviceAvailable(url: string | undefined, service: 'PostgreSQL' | 'Redis', suite: string): url is string {
  const variable = service === 'PostgreSQL' ? 'TEST_DATABASE_URL' : 'TEST_REDIS_URL';
  return requiredInCi(suite, url ? undefined : `no ${service}: ${variable} is unset and nothing answers at the default address`);
}

/** Records a skipped suite for the end-of-run summary (and warns at once). */
export function noteSkipped(suite: string, reason: string): void {
  console.warn(`[skipped] ${suite}: ${reason}`);
  const file = process.env.COLLOQUY_SKIP_LOG;
  if (file) appendFileSync(file, `${JSON.stringify({ suite, reason })}\n`);
}

/** A key prefix no other test (or engineer) uses; remove its keys with `dropRedisPrefix`. */
export const freshRedisPrefix = (): string => `colloquy-test:${randomUUID()}:`;

/** Deletes every key under `prefix`. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A schema name no other test uses; `dropPostgresSchema` removes it. */
export const freshPostgresSchema = (): string => `colloquy_test_${randomUUID().replace(/-/g, '')}`;

/** The URL with every connection's search_path set to `schema` (as DATABASE_URL takes it). */
export function postgresUrlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function createPostgresSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (c) => c.query(`create schema if not exists "${schema}"`));
}

export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (c) => c.query(`drop schema if exists "${schema}" cascade`));
}

async function withClient<R>(url: string, use: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function firstAnswering(urls: string[], answers: (url: string) => Promise<boolean>): Promise<string | undefined> {
  for (const url of urls) if (await answers(url)) return url;
  return undefined;
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
