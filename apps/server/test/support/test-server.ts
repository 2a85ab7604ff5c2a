import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.ts';

export interface TestServer extends RunningServer {
  /** Temp directory holding DATA_DIR and the upload root. */
  dir: string;
  /** The upload root (UPLOAD_ROOTS); write fixtures here with `writeInbox`. */
  inbox: string;
  writeInbox(relPath: string, content: string | Buffer): string;
  /** Closes the server and removes its temp directory. */
  dispose(): Promise<void>;
}

/** A real server on an ephemeral port with a fresh SQLite file in a temp dir. */
export async function startTestServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'colloquy-test-'));
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    UPLOAD_ROOTS: inbox,
    LOCAL_AGENT_DELTA_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '0',
    // Request logs would bury the test output; tests of logging pass their own logger.
    LOG_LEVEL: 'silent',
    ...env,
  });
  const running = await startServer(config, options);
  return {
    ...running,
    dir,
    inbox,
    writeInbox(relPath, content) {
      const full = join(inbox, relPath);
      mkdirSync(join(full, '..'), { recursive: true });
      writeFileSync(full, content);
      return full;
    },
    async dispose() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST/DELETE/GET JSON and return status, headers and parsed body. */
export async function requestJson(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Reads an NDJSON response line by line into parsed objects. */
export async function readNdjson(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
