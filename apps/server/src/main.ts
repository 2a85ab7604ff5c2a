import cluster from 'node:cluster';
import { openStore, SqliteDriverError } from '@colloquy/store';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { createLogger, type Logger } from './observability/logging.ts';
import { startServer } from './server.ts';

/** Extra time past SHUTDOWN_GRACE_MS before a shutdown that hangs is abandoned (exit 1). */
const SHUTDOWN_SLACK_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) return supervise(config, logger);
  await serve(config, logger);
}

/** One server process: the whole server (alone, or as one of WORKERS). */
async function serve(config: ServerConfig, logger: Logger): Promise<void> {
  const running = await startServer(config, { logger });
  // The start-up line is written at any level but `silent` (tools wait for it to learn the URL).
  const startup = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
  const { kind, driver } = running.services.store;
  startup.info(
    { url: running.url, dataDir: config.dataDir, store: kind, storeDriver: driver, allowedHosts: config.allowedHosts, live: running.services.live.kind, instance: running.services.live.instanceId },
    `listening on ${running.url} (${kind} via ${driver})`,
  );

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    // A worker hears of one shutdown several ways (its process group's signal, its primary's
    // word): only the first counts. Its primary escalates (SIGKILL) on a second signal.
    if (signals > 1 && cluster.isWorker) return;
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
  if (cluster.isWorker) process.on('message', (m) => m === SHUTDOWN_MESSAGE && shutdown('primary'));
}

/** What a primary sends its workers to shut them down (as SIGTERM would). */
const SHUTDOWN_MESSAGE = 'colloquy:shutdown';

/**
 * WORKERS > 1: this process only supervises. It migrates the store once (so workers never race
 * to create tables), then forks the workers; they share the listening port (node:cluster hands
 * connections out round-robin) and everything live through Redis, so any worker serves any
 * request. A worker that dies is replaced (its running answers become `interrupted` by its
 * siblings, which see its process gone). SIGTERM/SIGINT go to every worker; the primary exits
 * when they have, 0 if all shut down cleanly.
 */
async function supervise(config: ServerConfig, logger: Logger): Promise<void> {
  await (await openStore(config.databaseUrl, { sqliteDriver: config.sqliteDriver })).close();
  let stopping = false;
  let failed = false;
  const listening = new Set<number>();
  const fork = () => cluster.fork();
  cluster.on('listening', (worker) => listening.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0) failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!listening.has(worker.id)) {
      // It failed to start (its error is logged above): so would the next one.
      logger.fatal({ pid: worker.process.pid, code }, 'a worker failed to start: stopping');
      stopping = true;
      failed = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died: starting another');
    setTimeout(fork, 500).unref();
  });
  for (let i = 0; i < config.workers; i++) fork();
  logger.info({ workers: config.workers }, `supervising ${config.workers} workers`);
  const shutdown = () => {
    if (stopping) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.send(SHUTDOWN_MESSAGE);
    setTimeout(() => process.exit(1), config.shutdownGraceMs + SHUTDOWN_SLACK_MS + 5000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  // Before the configuration is read there is no configured logger: log at the default level.
  const logger = createLogger('info');
  if (err instanceof ConfigError || err instanceof SqliteDriverError) logger.fatal(err.message);
  else logger.fatal({ err }, 'start-up failed');
  process.exit(1);
});
