/**
 * Colloquy's server as one prebuilt JS file (esbuild), to compare with running it through
 * `node --import tsx` (how `pnpm start` runs it): tsx transpiles each module once as it is
 * loaded, so at steady state the two should not differ. The SQLite drivers (native addons) stay
 * external, imported from where the store resolves them.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { repoRoot } from './targets.ts';

export async function bundleServer(outDir: string): Promise<string> {
  const outfile = join(outDir, 'colloquy-server.mjs');
  const storeRequire = createRequire(join(repoRoot, 'packages', 'store', 'package.json'));
  // better-sqlite3 is optional: where it is not installed the bundle's import of it fails at run
  // time as the store's does, and the store takes libsql.
  const natives = new Map<string, string>();
  for (const name of ['better-sqlite3', 'libsql']) {
    try {
      natives.set(name, storeRequire.resolve(name));
    } catch {
      natives.set(name, name);
    }
  }
  await build({
    entryPoints: [join(repoRoot, 'apps', 'server', 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // CommonJS dependencies inside the ESM bundle need a `require`.
    banner: {
      js: `import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(${JSON.stringify(join(repoRoot, 'packages', 'store', 'package.json'))});`,
    },
    external: ['pg-native'],
    // Only apps/server uses import.meta.url (its public dir, resolving the docs bundle): keep it
    // pointing at the server's sources.
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(repoRoot, 'apps', 'server', 'src', 'app.ts')).href) },
    plugins: [
      {
        name: 'native-external',
        setup(b) {
          b.onResolve({ filter: /^(better-sqlite3|libsql)$/ }, (args) => ({ path: natives.get(args.path) ?? args.path, external: true }));
        },
      },
    ],
  });
  return outfile;
}
