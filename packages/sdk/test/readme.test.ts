/**
 * The SDK README's examples are programs: every ```ts block is compiled by tsc (strict,
 * exactOptionalPropertyTypes) against the built package, then run with node against a real
 * server, and must succeed and exit by itself. The blocks import `@colloquy/sdk` as a user
 * would: they are written inside the package, where that name resolves to its own build.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const sdkDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const readme = readFileSync(join(sdkDir, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
  name: `block-${String(i + 1).padStart(2, '0')}`,
  heading: headingBefore(m.index ?? 0),
  code: m[1]!,
}));

function headingBefore(offset: number): string {
  const headings = [...readme.slice(0, offset).matchAll(/^#+ (.*)$/gm)];
  return headings.at(-1)?.[1] ?? 'intro';
}

let fx: SdkFixture;
let dir: string;

beforeAll(async () => {
  fx = await startSdkFixture();
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: sdkDir, stdio: 'pipe' });
  dir = mkdtempSync(join(sdkDir, '.readme-'));
  for (const b of blocks) writeFileSync(join(dir, `${b.name}.ts`), b.code);
}, 180_000);
afterAll(async () => {
  await fx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has an example for every section that shows code', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(12);
    expect(new Set(blocks.map((b) => b.heading)).size).toBeGreaterThanOrEqual(12);
  });

  it('compile against the built package (strict, exactOptionalPropertyTypes)', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'ESNext.Disposable', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          rootDir: '.',
          outDir: 'out',
        },
        include: ['*.ts'],
      }),
    );
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`README examples do not compile:\n${String((err as { stdout?: Buffer }).stdout)}`);
    }
  }, 120_000);

  // Concurrently: the examples act for users of their own and wait mostly on the server.
  it.concurrent.for(blocks.map((b): [string, string] => [b.name, b.heading]))('%s (%s) runs against a real server and exits by itself', { timeout: 60_000 }, async ([name], { expect }) => {
    const run = await new Promise<{ code: number | null; output: string }>((done, fail) => {
      const child = spawn(process.execPath, [join(dir, 'out', `${name}.js`)], {
        cwd: dir,
        env: { ...process.env, COLLOQUY_URL: fx.server.url, COLLOQUY_API_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      child.on('error', fail);
      child.on('exit', (code) => {
        clearTimeout(killer);
        done({ code, output });
      });
    });
    expect(run.code, run.output).toBe(0);
  });
});
