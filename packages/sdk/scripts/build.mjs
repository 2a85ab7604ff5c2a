// Builds the publishable package:
//  1. dist/index.js (ESM) and dist/index.cjs (CommonJS), bundled by esbuild from src with every
//     package import left external (the published dependencies), with source maps that embed
//     the sources (sourcesContent);
//  2. one self-contained dist/index.d.ts (and its CommonJS twin dist/index.d.cts), bundled by
//     rollup-plugin-dts, in which the router types of the unpublished workspace packages are
//     inlined, so a project outside this repo can compile against the tarball;
//  3. the browser bundle's size (everything bundled, minified, gzipped), printed: what a web
//     app pays for the SDK. Bundled for the browser platform, so a Node built-in reached from
//     the browser entry fails the build.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import { bundleForBrowser } from './browser-bundle.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = join(sdkDir, 'dist');
const typesDir = join(sdkDir, '.types');
const run = (args) => execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit', cwd: sdkDir });

rmSync(distDir, { recursive: true, force: true });
rmSync(typesDir, { recursive: true, force: true });
mkdirSync(typesDir, { recursive: true });

// 1. JavaScript, twice.
const pkg = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
for (const dep of Object.keys(pkg.dependencies ?? {})) {
  if (String(pkg.dependencies[dep]).startsWith('workspace:')) throw new Error(`${dep} is a workspace package: the tarball could not install it`);
}
for (const [format, file] of [
  ['esm', 'index.js'],
  ['cjs', 'index.cjs'],
]) {
  await build({
    entryPoints: [join(sdkDir, 'src/index.ts')],
    outfile: join(distDir, file),
    bundle: true,
    // Dependencies are installed with the package; type-only imports of the workspace vanish.
    packages: 'external',
    platform: 'neutral',
    format,
    target: 'es2022',
    sourcemap: true,
    sourcesContent: true,
    logLevel: 'warning',
  });
}

// 2. Declarations: the SDK's, and those of the workspace packages its types come from, in one
//    tsc program (the workspace packages resolve to their sources).
run(['-p', 'tsconfig.build.json']);

const bundle = await rollup({
  input: join(typesDir, 'sdk', 'src', 'index.d.ts'),
  // Published dependencies (and Node built-ins) stay imports; workspace packages are inlined.
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('@colloquy/'),
  plugins: [
    {
      name: 'workspace-declarations',
      resolveId(id, importer) {
        const ws = /^@colloquy\/(api|store|agents)$/.exec(id);
        if (ws) return join(typesDir, ws[1], 'src', 'index.d.ts');
        // Declarations keep the sources' `.ts` specifiers; the files are `.d.ts`.
        if (importer && id.startsWith('.') && id.endsWith('.ts') && !id.endsWith('.d.ts')) {
          const target = resolve(dirname(importer), id.replace(/\.ts$/, '.d.ts'));
          if (existsSync(target)) return target;
        }
        return null;
      },
    },
    dts({ respectExternal: true }),
  ],
});
await bundle.write({ file: join(distDir, 'index.d.ts'), format: 'es' });
await bundle.close();
// The same declarations for `require`: TypeScript reads a .d.cts as describing a CommonJS module.
copyFileSync(join(distDir, 'index.d.ts'), join(distDir, 'index.d.cts'));
rmSync(typesDir, { recursive: true, force: true });

// 3. What a browser app pays.
const browser = await bundleForBrowser({ minify: true });
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log('built dist/index.js (ESM), dist/index.cjs (CommonJS), dist/index.d.ts, dist/index.d.cts, with source maps');
console.log(`browser bundle (SDK + dependencies, minified): ${kb(browser.length)}, gzip: ${kb(gzipSync(browser).length)}`);
