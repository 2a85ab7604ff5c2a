/** Starting what is measured: the mock upstreams, the floor, Colloquy and the peer gateway. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchText, keepAliveAgent } from './http.ts';
import { freePort, startChild, type Child } from './procs.ts';

export const benchDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoRoot = join(benchDir, '..');
const children = join(benchDir, 'src', 'children');
/** tsx's loader as a file URL, so `--import` works from any working directory. */
const TSX = import.meta.resolve('tsx');

/** Only what a child needs from our environment: no credentials or proxies leak into it. */
export function baseEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, TZ: process.env.TZ, NODE_ENV: 'production' };
}

export interface MockConfig {
  chunks?: number;
  delayMs?: number;
  hold?: boolean;
  maxHoldMs?: number;
  text?: string;
}

export interface Mock extends Child {
  configure(c: MockConfig): Promise<void>;
  release(): Promise<number>;
  stats(): Promise<{ open: number; held: number; connections: number; requests: number; rss: number }>;
}

const control = keepAliveAgent(1);

export async function startMock(): Promise<Mock> {
  const child = await startChild({
    name: 'mock upstream',
    args: ['--import', TSX, join(children, 'mock-upstream.ts')],
    env: { ...baseEnv(), PORT: '0' },
    readyLine: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  return Object.assign(child, {
    async configure(c: MockConfig) {
      await fetchText(control, { method: 'POST', url: `${child.url}/_control`, body: JSON.stringify(c) });
    },
    async release() {
      const { body } = await fetchText(control, { method: 'POST', url: `${child.url}/_release`, body: '{}' });
      return (JSON.parse(body) as { released: number }).released;
    },
    async stats() {
      const { body } = await fetchText(control, { method: 'GET', url: `${child.url}/_stats` });
      return JSON.parse(body) as { open: number; held: number; connections: number; requests: number; rss: number };
    },
  });
}

export async function startFloor(target: string): Promise<Child> {
  return startChild({
    name: 'floor proxy',
    args: ['--import', TSX, join(children, 'floor-proxy.ts')],
    env: { ...baseEnv(), PORT: '0', TARGET: target },
    readyLine: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

export const PEER_NAME = 'Portkey gateway 1.15.2';

/**
 * The peer: @portkey-ai/gateway on Node (`--headless`), with a preloaded guard that makes it
 * listen on 127.0.0.1 and refuses any connection that is not to loopback.
 */
export async function startPeer(): Promise<Child> {
  const port = await freePort();
  return startChild({
    name: 'Portkey gateway',
    args: [
      '--import',
      join(children, 'loopback-guard.mjs'),
      join(benchDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js'),
      '--headless',
      `--port=${port}`,
    ],
    cwd: benchDir,
    env: { ...baseEnv(), TRUSTED_CUSTOM_HOSTS: '127.0.0.1' },
    readyUrl: `http://127.0.0.1:${port}/`,
  });
}

/** Headers that route a Portkey request to the mock as an OpenAI-compatible custom host. */
export function peerHeaders(mockUrl: string): Record<string, string> {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${mockUrl}/v1`,
    authorization: 'Bearer sk-bench',
  };
}

export interface ColloquyOptions {
  mockUrl: string;
  /** Extra environment (e.g. DATABASE_URL of a seeded file). */
  env?: Record<string, string>;
  /** Directory for `--cpu-prof` output; profiling is off without it. */
  cpuProfDir?: string;
  /** More node flags (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  nodeArgs?: string[];
  /** Working directory (heap snapshots are written there); default apps/server. */
  cwd?: string;
  /** 'tsx': `node --import tsx apps/server/src/main.ts` (as `pnpm start`); 'bundle': a prebuilt JS bundle. */
  runtime?: 'tsx' | 'bundle';
  bundlePath?: string;
}

export interface Colloquy extends Child {
  dataDir: string;
  /** Stops the server and removes its temp directory. */
  dispose(): Promise<void>;
}

/** Colloquy as a production-like child: no watch, LOG_LEVEL=warn, the `openai` agent on the mock. */
export async function startColloquy(o: ColloquyOptions): Promise<Colloquy> {
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-bench-'));
  const port = await freePort();
  const nodeArgs = [...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []), ...(o.nodeArgs ?? [])];
  // `--colloquy-root=<worktree>` (main.ts sets BENCH_COLLOQUY_ROOT): another checkout's server
  // under this harness, for same-host A/B runs of two versions.
  const serverRoot = process.env.BENCH_COLLOQUY_ROOT || repoRoot;
  const entry =
    o.runtime === 'bundle' && o.bundlePath
      ? [o.bundlePath]
      : ['--import', TSX, join(serverRoot, 'apps', 'server', 'src', 'main.ts')];
  const child = await startChild({
    name: 'Colloquy',
    args: [...nodeArgs, ...entry],
    cwd: o.cwd ?? join(serverRoot, 'apps', 'server'),
    env: {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
      OPENAI_BASE_URL: `${o.mockUrl}/v1`,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_MODEL: 'bench-model',
      DIFY_BASE_URL: `${o.mockUrl}/v1`,
      DIFY_API_KEY: 'app-bench',
      DEFAULT_AGENT: 'openai',
      // Benchmarks drive one user hard: no per-minute or per-user concurrency limits.
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONCURRENT_TURNS_PER_USER: '0',
      // `--sqlite-driver` (main.ts) sets it: every Colloquy of a run uses the same SQLite driver.
      ...(process.env.SQLITE_DRIVER ? { SQLITE_DRIVER: process.env.SQLITE_DRIVER } : {}),
      // ~10,000 streams from one address (scenario 3): no connection or per-IP stream caps.
      MAX_CONNECTIONS: '0',
      MAX_STREAMS_PER_IP: '0',
      ...o.env,
    },
    readyUrl: `http://127.0.0.1:${port}/healthz`,
    timeoutMs: 60_000,
  });
  return Object.assign(child, {
    dataDir: join(dir, 'data'),
    async dispose() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Prometheus text → the value of one unlabelled sample. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export async function scrapeMetrics(url: string): Promise<string> {
  const { body } = await fetchText(control, { method: 'GET', url: `${url}/metrics` });
  return body;
}
