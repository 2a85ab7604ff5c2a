import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const sdkDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'colloquy-sdk-consumer-'));
let fx: SdkFixture;

beforeAll(async () => {
  fx = await startSdkFixture({ LOCAL_AGENT_DELTA_DELAY_MS: '0' });
});
afterAll(async () => {
  await fx?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const CONSUMER = `
import { createClient, NotFoundError, type Answer, type StreamEvent } from '@colloquy/sdk';

const client = createClient({ baseUrl: process.argv[2] ?? '', user: 'packed' });
const files = await client.files.uploadPaths(['cats.txt']);
const answer: Answer = await client.converse({ query: 'How long do cats sleep?', files: [files[0]!.id] });
let streamed = '';
const stream = client.stream({ query: 'purr', conversationId: answer.conversationId });
for await (const ev of stream) {
  const event: StreamEvent = ev;
  if (event.event === 'message') streamed += event.answer;
}
const final = await stream.final();
let notFound = false;
try {
  await client.conversations.get('missing');
} catch (err) {
  notFound = err instanceof NotFoundError;
}
// @ts-expect-error the SDK's types reach the consumer: query must be a string
const typeErrorOnly = () => client.converse({ query: 1 });
void typeErrorOnly;
const listed = (await client.clients.list()).clients.some((c) => c.id === client.clientId);
await client.close();
console.log(JSON.stringify({ answer: answer.answer, status: final.status, same: final.answer === streamed, notFound, listed }));
`;

describe('the packed SDK, installed outside the workspace', () => {
  it('installs from its tarball, compiles a consumer with tsc and runs it', () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: sdkDir, stdio: 'pipe' });
    execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: sdkDir, stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { '@colloquy/sdk': `file:${join(work, tarball!)}` } }),
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    // A browser-like compile: DOM lib, no Node types, strict, and the SDK's own .d.ts checked.
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          // @trpc/server's own declarations use Disposable (TypeScript's esnext.disposable lib).
          lib: ['ES2023', 'ESNext.Disposable', 'DOM', 'DOM.Iterable'],
          types: [],
          strict: true,
          skipLibCheck: false,
          outDir: 'out',
        },
        files: ['consumer.ts', 'globals.d.ts'],
      }),
    );
    // The consumer reads process.argv; declare just that instead of pulling in @types/node.
    writeFileSync(join(app, 'globals.d.ts'), 'declare const process: { argv: string[] };\n');
    try {
      execFileSync(process.execPath, [tsc, '-p', '.'], { cwd: app, stdio: 'pipe' });
    } catch (err) {
      throw new Error(`tsc failed:\n${String((err as { stdout?: Buffer }).stdout)}`);
    }

    // Straight to the server process: execFileSync blocks this process, which hosts the proxy.
    const out = execFileSync(process.execPath, ['out/consumer.js', fx.server.url], { cwd: app, timeout: 60_000 }).toString();
    const result = JSON.parse(out.trim()) as { answer: string; status: string; same: boolean; notFound: boolean; listed: boolean };
    expect(result.answer).toContain('sixteen hours');
    // `listed`: the client's own presence shows in clients.list; close() then lets the process exit.
    expect(result).toMatchObject({ status: 'complete', same: true, notFound: true, listed: true });
  }, 240_000);
});
