import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const running = await startServer(config);
  console.log(`[colloquy] listening on ${running.url} (data: ${config.dataDir}, store: ${running.services.store.kind})`);

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    console.log(`[colloquy] ${signal}: shutting down`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[colloquy] shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
