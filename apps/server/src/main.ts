import { SqliteDriverError } from '@colloquy/store';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logging.ts';
import { startServer } from './server.ts';

/** Extra time past SHUTDOWN_GRACE_MS before a shutdown that hangs is abandoned (exit 1). */
const SHUTDOWN_SLACK_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const running = await startServer(config, { logger });
  // The start-up line is written at any level but `silent` (tools wait for it to learn the URL).
  const startup = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
  const { kind, driver } = running.services.store;
  startup.info(
    { url: running.url, dataDir: config.dataDir, store: kind, storeDriver: driver, allowedHosts: config.allowedHosts },
    `listening on ${running.url} (${kind} via ${driver})`,
  );

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal, graceMs: config.shutdownGraceMs }, `${signal}: shutting down`);
    setTimeout(() => {
      logger.error({ signal }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_SLACK_MS).unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // Before the configuration is read there is no configured logger: log at the default level.
  const logger = createLogger('info');
  if (err instanceof ConfigError || err instanceof SqliteDriverError) logger.fatal(err.message);
  else logger.fatal({ err }, 'start-up failed');
  process.exit(1);
});
