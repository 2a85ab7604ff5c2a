import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServerDirs, startServerProcess, startTcpProxy, type ServerProcess, type TcpProxy } from '@colloquy/testing';

export interface SdkFixture {
  server: ServerProcess;
  /** A TCP proxy in front of the server: cut connections, fail requests. */
  proxy: TcpProxy;
  inbox: string;
  dispose(): Promise<void>;
}

export const ENGINE_DOC = Array.from(
  { length: 12 },
  (_, i) =>
    `Section ${i + 1}. The orbital rocket engine number ${i + 1} burns liquid hydrogen with liquid oxygen, ` +
    `and its turbopump spins at high speed to feed the combustion chamber with propellant for thrust.`,
).join('\n\n');

/** A real server process (slow local agent, so streams can be interrupted) behind a proxy. */
export async function startSdkFixture(env: Record<string, string> = {}): Promise<SdkFixture> {
  const dirs = makeServerDirs('colloquy-sdk-');
  writeFileSync(join(dirs.inbox, 'engines.md'), ENGINE_DOC);
  writeFileSync(join(dirs.inbox, 'cats.txt'), 'Cats sleep about sixteen hours a day and purr when content.');
  const server = await startServerProcess({
    DATA_DIR: dirs.dataDir,
    UPLOAD_ROOTS: dirs.inbox,
    LOCAL_AGENT_DELTA_DELAY_MS: '15',
    FLUSH_INTERVAL_MS: '100',
    SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  const proxy = await startTcpProxy(server.url);
  return {
    server,
    proxy,
    inbox: dirs.inbox,
    async dispose() {
      await proxy.close();
      await server.stop();
      dirs.remove();
    },
  };
}
