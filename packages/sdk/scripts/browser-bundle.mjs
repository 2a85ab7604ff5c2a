// The SDK bundled for a browser page: its entry and every dependency in one ES module. Built
// for the browser platform, so a Node built-in reached from the entry fails the build.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundle's bytes. */
export async function bundleForBrowser({ minify = false } = {}) {
  const result = await build({
    entryPoints: [join(sdkDir, 'src/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    write: false,
    logLevel: 'warning',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild produced no output');
  return file.contents;
}
