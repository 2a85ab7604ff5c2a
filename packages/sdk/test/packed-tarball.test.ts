/**
 * The SDK as a user outside this repository gets it: built, packed, installed from the tarball
 * with npm into a new project, compiled there by tsc and run against a real server — as an ES
 * module compiled with `exactOptionalPropertyTypes` (which `tsc --init` turns on), and as
 * CommonJS (`require`). Each consumer must exit by itself within 2 s of its last call.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const sdkDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'colloquy-sdk-consumer-'));
const app = join(work, 'app');
let fx: SdkFixture;
let buildOutput = '';

beforeAll(async () => {
  fx = await startSdkFixture({ LOCAL_AGENT_DELTA_DELAY_MS: '0' });
  buildOutput = execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: sdkDir, stdio: 'pipe' }).toString();
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: sdkDir, stdio: 'pipe' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('pnpm pack wrote no tarball');
  mkdirSync(join(app, 'cjs'), { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { '@colloquy/sdk': `file:${join(work, tarball)}` } }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
}, 240_000);
afterAll(async () => {
  await fx?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const ESM_CONSUMER = `
import { createClient, NotFoundError, TimeoutError, type Answer, type ClientOptions, type StreamEvent } from '@colloquy/sdk';

// Optional options take \`undefined\` (exactOptionalPropertyTypes): an unset env variable is fine.
const options: ClientOptions = { baseUrl: process.argv[2] ?? '', apiKey: process.env.COLLOQUY_API_KEY, user: 'packed', timeoutMs: undefined };
const client = createClient(options);
const files = await client.files.uploadPaths(['cats.txt'], { headers: undefined, signal: undefined });
const answer: Answer = await client.converse({ query: 'How long do cats sleep?', files: [files[0]!.id], newConversation: true, managerId: undefined });
let streamed = '';
const stream = client.stream({ query: 'purr', conversationId: answer.conversationId }, { timeoutMs: 30_000 });
for await (const ev of stream) {
  const event: StreamEvent = ev;
  if (event.event === 'message') streamed += event.answer;
}
const final = await stream.final();
let notFound = false;
try {
  await client.conversations.get('missing');
} catch (err) {
  notFound = err instanceof NotFoundError && typeof err.requestId === 'string';
}
const timedOut = await client.converse({ query: 'cats', conversationId: answer.conversationId }, { timeoutMs: 1 }).catch((e: unknown) => e);
// @ts-expect-error the SDK's types reach the consumer: query must be a string
const typeErrorOnly = () => client.converse({ query: 1 });
void typeErrorOnly;
const { response } = await client.agents.list().withResponse();
// No close(): nothing of the client's may keep this process running.
console.log(JSON.stringify({
  answer: answer.answer,
  status: final.status,
  same: final.answer === streamed,
  notFound,
  timeout: timedOut instanceof TimeoutError && (timedOut as TimeoutError).code === 'TIMEOUT',
  createdAt: typeof answer.createdAt,
  requestId: typeof response.requestId,
}));
console.log('LAST_CALL_DONE ' + Date.now());
`;

const CJS_CONSUMER = `
import { createClient, ConflictError } from '@colloquy/sdk';

async function main(): Promise<void> {
  const client = createClient({ baseUrl: process.argv[2] ?? '', user: 'packed-cjs' });
  const answer = await client.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], newConversation: true, managerId: 'team-a' });
  const clash = await client
    .converse({ query: 'again', conversationId: answer.conversationId, managerId: 'team-b' })
    .catch((e: unknown) => e);
  console.log(JSON.stringify({
    format: typeof require === 'function' && typeof module === 'object' ? 'commonjs' : 'esm',
    status: answer.status,
    conflict: clash instanceof ConflictError,
  }));
  console.log('LAST_CALL_DONE ' + Date.now());
}
void main();
`;

/** Compiler options close to `tsc --init`'s (strict, exactOptionalPropertyTypes…), checking the SDK's own .d.ts. */
const compilerOptions = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  // @trpc/server's own declarations use Disposable (TypeScript's esnext.disposable lib).
  lib: ['ES2023', 'ESNext.Disposable', 'DOM', 'DOM.Iterable'],
  types: [],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: false,
  isolatedModules: true,
  skipLibCheck: false,
};

/**
 * Compiles both consumers in one tsc run: each file's module format follows its nearest
 * package.json (`type: module` for the app, `type: commonjs` in cjs/), and the JavaScript is
 * written next to it, in the same scope.
 */
let compiled: Promise<void> | undefined;
function compileConsumers(): Promise<void> {
  compiled ??= (async () => {
    writeFileSync(join(app, 'consumer.ts'), ESM_CONSUMER);
    // The consumers read process.argv and env; declare just that instead of pulling in @types/node.
    writeFileSync(join(app, 'globals.d.ts'), 'declare const process: { argv: string[]; env: Record<string, string | undefined> };\n');
    writeFileSync(join(app, 'cjs', 'package.json'), JSON.stringify({ name: 'consumer-cjs', private: true, type: 'commonjs' }));
    writeFileSync(join(app, 'cjs', 'consumer.ts'), CJS_CONSUMER);
    writeFileSync(join(app, 'cjs', 'globals.d.ts'), 'declare const require: unknown;\ndeclare const module: unknown;\n');
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts', 'globals.d.ts', 'cjs/consumer.ts', 'cjs/globals.d.ts'] }));
    try {
      execFileSync(process.execPath, [tsc, '-p', '.'], { cwd: app, stdio: 'pipe' });
    } catch (err) {
      throw new Error(`tsc failed:\n${String((err as { stdout?: Buffer }).stdout)}`);
    }
  })();
  return compiled;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the consumer's last call to its exit. */
  exitDelayMs: number | undefined;
}

/** Runs a compiled consumer; kills it if it is still running 15 s after its last call. */
function runConsumer(cwd: string, file: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, fx.server.url], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLLOQUY_API_KEY: '' } });
    let stdout = '';
    let stderr = '';
    let lastCall: number | undefined;
    let killer: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /LAST_CALL_DONE (\d+)/.exec(stdout);
      if (m && lastCall === undefined) {
        lastCall = Number(m[1]);
        killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, exitDelayMs: lastCall === undefined ? undefined : Date.now() - lastCall });
    });
  });
}

const resultOf = (run: Run) => JSON.parse(run.stdout.split('\n')[0]!) as Record<string, unknown>;

describe('the packed SDK, installed outside the workspace', () => {
  it('ships ESM and CommonJS builds with types for each, source maps with their sources, and no workspace dependency', () => {
    const installed = join(app, 'node_modules/@colloquy/sdk');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, { import: Record<string, string>; require: Record<string, string> }>;
      dependencies: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    expect(pkg.exports['.']).toEqual({
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    });
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@colloquy/'))).toEqual([]);
    expect(Object.values(pkg.dependencies).filter((v) => v.startsWith('workspace:'))).toEqual([]);
    for (const map of ['dist/index.js.map', 'dist/index.cjs.map']) {
      const sourceMap = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[]; sourcesContent: string[] };
      expect(sourceMap.sources.some((s) => s.endsWith('src/client.ts'))).toBe(true);
      expect(sourceMap.sourcesContent).toHaveLength(sourceMap.sources.length);
      expect(sourceMap.sourcesContent.every((c) => typeof c === 'string' && c.length > 0)).toBe(true);
    }
    // The declarations inline the router's types: they import only published packages.
    const imports = [...readFileSync(join(installed, 'dist/index.d.ts'), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.filter((i) => i!.startsWith('@colloquy/') || i!.startsWith('.'))).toEqual([]);
    // The build reports what a browser app pays.
    expect(buildOutput).toMatch(/browser bundle \(SDK \+ dependencies, minified\): [\d.]+ KB, gzip: [\d.]+ KB/);
  });

  it('an ES module consumer compiled with exactOptionalPropertyTypes runs, and exits by itself within 2 s', async () => {
    await compileConsumers();
    const run = await runConsumer(app, 'consumer.js');
    expect(run.code, run.stderr).toBe(0);
    const result = resultOf(run);
    expect(result.answer).toEqual(expect.stringContaining('sixteen hours'));
    expect(result).toMatchObject({ status: 'complete', same: true, notFound: true, timeout: true, createdAt: 'number', requestId: 'string' });
    expect(run.exitDelayMs).toBeDefined();
    expect(run.exitDelayMs!).toBeLessThan(2000);
  }, 120_000);

  it('a CommonJS consumer (require) compiles, runs, and exits by itself within 2 s', async () => {
    await compileConsumers();
    const dir = join(app, 'cjs');
    expect(readFileSync(join(dir, 'consumer.js'), 'utf8')).toContain('require("@colloquy/sdk")');
    const run = await runConsumer(dir, 'consumer.js');
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ format: 'commonjs', status: 'complete', conflict: true });
    expect(run.exitDelayMs).toBeDefined();
    expect(run.exitDelayMs!).toBeLessThan(2000);
  }, 120_000);
});
