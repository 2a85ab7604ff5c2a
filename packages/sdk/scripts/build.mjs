// Builds the publishable package:
//  1. JS + source maps from tsc (the SDK's only runtime imports are published packages);
//  2. declarations for the SDK and for the workspace packages its types come from;
//  3. one self-contained dist/index.d.ts, bundled by rollup-plugin-dts, in which the router
//     types of the unpublished workspace packages are inlined, so a project outside this repo
//     can compile against the tarball.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(sdkDir, '.types');
const run = (args) => execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit', cwd: sdkDir });

rmSync(join(sdkDir, 'dist'), { recursive: true, force: true });
rmSync(typesDir, { recursive: true, force: true });
mkdirSync(typesDir, { recursive: true });

run(['-p', 'tsconfig.build.json']);

// Declarations of each workspace package, from its sources only (not its tests).
for (const pkg of ['store', 'agents', 'api']) {
  const pkgDir = resolve(sdkDir, '..', pkg);
  const config = join(typesDir, `tsconfig.${pkg}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(pkgDir, 'tsconfig.json'),
      include: [join(pkgDir, 'src')],
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: join(pkgDir, 'src'),
        outDir: join(typesDir, pkg),
      },
    }),
  );
  run(['-p', config]);
}

const bundle = await rollup({
  input: join(typesDir, 'sdk', 'index.d.ts'),
  // Published dependencies (and Node built-ins) stay imports; workspace packages are inlined.
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('@colloquy/'),
  plugins: [
    {
      name: 'workspace-declarations',
      resolveId(id, importer) {
        const ws = /^@colloquy\/(api|store|agents)$/.exec(id);
        if (ws) return join(typesDir, ws[1], 'index.d.ts');
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
await bundle.write({ file: join(sdkDir, 'dist', 'index.d.ts'), format: 'es' });
await bundle.close();
rmSync(typesDir, { recursive: true, force: true });
console.log('built dist/index.js and dist/index.d.ts');
