import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const serverEntry = join(repoRoot, 'apps/server/src/main.ts');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | string>;
}

/** Starts the server (`apps/server/src/main.ts`, as `pnpm start` does) in its own process. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    cwd: join(repoRoot, 'apps/server'),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    let listening = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      // Scan only until found: a chatty server's output grows large, and rescanning it all on
      // every chunk would make long tests quadratic.
      if (listening) return;
      // The server logs JSON lines: the URL ends at whitespace or the closing quote.
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m?.[1]) {
        listening = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface TempServerDirs {
  dir: string;
  dataDir: string;
  inbox: string;
  remove(): void;
}

/** A temp directory with DATA_DIR and an upload root inside. */
export function makeServerDirs(prefix = 'colloquy-'): TempServerDirs {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(dir, 'data');
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  return { dir, dataDir, inbox, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
