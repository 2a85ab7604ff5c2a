import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `pnpm lint` (dependency-cruiser with the repo's .dependency-cruiser.mjs) fails on a planted
 * violation of each layering rule, and passes the same layout without them. The trees are laid
 * out in temp dirs with the repo's folder names, since the rules are written on those paths.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'colloquy-lint-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function lint(root: string): Promise<{ code: number; output: string }> {
  const bin = join(repo, 'node_modules/.bin/depcruise');
  try {
    const { stdout } = await run(bin, ['--config', join(repo, '.dependency-cruiser.mjs'), '--output-type', 'err', 'apps', 'packages', 'bench'], { cwd: root });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Files every tree has: the targets the planted imports point at. */
const base = {
  'packages/api/src/index.ts': 'export const api = 1;\nexport type Api = number;\n',
  'packages/api/src/context.ts': 'export const context = 1;\n',
  'packages/api/src/trpc.ts': 'export const procedure = 1;\n',
  'packages/api/src/chat/send.ts': 'export const send = 1;\n',
  'packages/store/src/index.ts': 'export const store = 1;\n',
  'packages/agents/src/index.ts': 'export const agents = 1;\n',
  'apps/server/src/main.ts': "import { api } from '../../../packages/api/src/index.ts';\nexport const server = api;\n",
};

describe('pnpm lint: the layering rules', () => {
  it('passes a layout that keeps them (the SDK importing only types from api)', async () => {
    const root = tree({
      ...base,
      'packages/api/src/services/turns.ts': "import { store } from '../../../store/src/index.ts';\nexport const turns = store;\n",
      'packages/sdk/src/client.ts': "import type { Api } from '../../api/src/index.ts';\nexport const n: Api = 1;\n",
      'bench/src/main.ts': "import { report } from './report.ts';\nexport const main = report;\n",
      'bench/src/report.ts': 'export const report = 1;\n',
    });
    const { code, output } = await lint(root);
    expect(output).toContain('no dependency violations found');
    expect(code).toBe(0);
  }, 60_000);

  it('fails on a planted violation of each rule, naming it', async () => {
    const root = tree({
      ...base,
      // store and agents import no other workspace package
      'packages/store/src/uses-api.ts': "import { api } from '../../api/src/index.ts';\nexport const a = api;\n",
      'packages/agents/src/uses-store.ts': "import { store } from '../../store/src/index.ts';\nexport const s = store;\n",
      // services import no procedure, context or procedure builder
      'packages/api/src/services/uses-context.ts': "import { context } from '../context.ts';\nexport const c = context;\n",
      'packages/api/src/services/uses-procedure.ts': "import { send } from '../chat/send.ts';\nexport const p = send;\n",
      // the sdk imports only types from api
      'packages/sdk/src/uses-api-value.ts': "import { api } from '../../api/src/index.ts';\nexport const v = api;\n",
      // no cycles (bench's main.ts ↔ report.ts as it once was)
      'bench/src/main.ts': "import { report } from './report.ts';\nexport const main = report;\n",
      'bench/src/report.ts': "import type { main } from './main.ts';\nexport const report = 1;\nexport type M = typeof main;\n",
      // packages never import apps
      'packages/api/src/uses-app.ts': "import { server } from '../../../apps/server/src/main.ts';\nexport const u = server;\n",
    });
    const { code, output } = await lint(root);
    expect(code).not.toBe(0);
    for (const [rule, from] of [
      ['store-agents-standalone', 'packages/store/src/uses-api.ts'],
      ['store-agents-standalone', 'packages/agents/src/uses-store.ts'],
      ['services-not-procedures', 'packages/api/src/services/uses-context.ts'],
      ['services-not-procedures', 'packages/api/src/services/uses-procedure.ts'],
      ['sdk-types-only-from-api', 'packages/sdk/src/uses-api-value.ts'],
      ['no-circular', 'bench/src/main.ts'],
      ['packages-not-apps', 'packages/api/src/uses-app.ts'],
    ] as const) {
      expect(output, `${rule} from ${from}`).toMatch(new RegExp(`error ${rule}: ${from.replace(/[.]/g, '\\.')}`));
    }
  }, 60_000);
});
