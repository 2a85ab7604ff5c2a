import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import proxyaddr from 'proxy-addr';
import { createContextFactory, createServices, type Services } from '@colloquy/api';
import { openLiveState, openStore, type LiveState } from '@colloquy/store';
import type { StreamEvent } from '@colloquy/api';
import type { Express } from 'express';
import { createApp } from './app.ts';
import { buildAgents } from './build-agents.ts';
import { apiConfigOf, type ServerConfig } from './config.ts';
import { createAppServer } from './http/app-server.ts';
import { answerClientError } from './http/client-error.ts';
import { createLiveSockets } from './live/live-socket.ts';
import { registerVideoMetrics } from './live/live-metrics.ts';
import type { VideoHub } from './live/video-hub.ts';
import { createLogger, type Logger } from './observability/logging.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { createAccessControl, securityWarnings } from './security/index.ts';

export interface RunningServer {
  url: string;
  server: Server;
  /** The Express app serving it (its router stack lists the REST routes). */
  app: Express;
  services: Services;
  logger: Logger;
  metrics: Metrics;
  /** Live video (its counters are also on /metrics). */
  video: VideoHub;
  /**
   * Stops accepting, lets running turns finish up to the grace time (then stops them: their
   * partial text is stored as `stopped`), lets open streams send their last events, closes the
   * store.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  /** The logger to use; default: a new one at config.logLevel writing JSON lines to stdout. */
  logger?: Logger;
}

/** How long shutdown waits for streams to deliver their final events after the turns ended. */
const STREAM_FLUSH_MS = 1000;

/** The composition root: builds the logger, metrics, store, agents and router, and listens. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  for (const warning of securityWarnings(config)) logger.warn(warning);
  const store = await openStore(config.databaseUrl, {
    sqliteDriver: config.sqliteDriver,
    onSqliteFallback: (reason) => logger.info({ reason }, 'better-sqlite3 is not loadable here; SQLite runs on libsql (see SQLITE_DRIVER)'),
  });
  let liveState: LiveState<StreamEvent>;
  try {
    liveState = await openLiveState<StreamEvent>({
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      streamRetentionMs: config.streamRetentionMs,
      presenceTimeoutMs: config.presenceTimeoutMs,
      maxClientsPerUser: config.maxClientsPerUser,
      slotLeaseMs: config.instanceLeaseMs,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const services = createServices({
    live: liveState,
    instanceLeaseMs: config.instanceLeaseMs,
    config: apiConfigOf(config),
    store,
    agents: buildAgents(config.agents, { upstream: config.upstream, localDeltaDelayMs: config.localAgentDeltaDelayMs }),
    defaultAgent: config.defaultAgent,
    blobDir: join(config.dataDir, 'blobs'),
    streamRetentionMs: config.streamRetentionMs,
    flushIntervalMs: config.flushIntervalMs,
    logger,
    turnObserver: metrics.turnObserver,
  });
  metrics.setActiveTurnsSource(() => services.turns.activeCount());
  metrics.setConnectedClientsSource(() => services.presence.count());
  // Takes this instance's lease; answers of instances that are gone (a previous process of this
  // one, or another instance that died) become `interrupted`. Live turns of other instances are
  // left alone; the lease re-checks periodically.
  const interrupted = await services.turns.recoverInterrupted();
  if (interrupted > 0) logger.warn({ count: interrupted }, 'answers cut off by instances that are gone marked interrupted');
  // Uploads a previous process was receiving when it died.
  await services.blobs.sweepStaging();

  let draining = false;
  const access = createAccessControl({
    apiKeys: config.apiKeys,
    rateLimitPerMinute: config.rateLimitPerMinute,
    maxBatchSize: config.maxBatchSize,
    maxStreamsPerKey: config.maxStreamsPerKey,
    maxStreamsPerIp: config.maxStreamsPerIp,
    allowedHosts: config.allowedHosts,
    corsOrigins: config.corsOrigins,
    redis: liveState.redis,
  });
  const app = createApp(config, services, access, { logger, metrics, isDraining: () => draining });
  const server = createAppServer(app, config);
  server.on('clientError', answerClientError);
  const live = createLiveSockets({
    services,
    createContext: createContextFactory(services),
    access,
    // The same client address Express gives HTTP requests (its compiled `trust proxy`).
    clientIp: (req) => proxyaddr(req, app.get('trust proxy fn') as (addr: string, i: number) => boolean),
    maxFrameBytes: config.maxVideoFrameBytes,
    maxFps: config.maxVideoFps,
    maxViewersPerPublisher: config.maxVideoViewers,
    timeoutMs: config.presenceTimeoutMs,
    isDraining: () => draining,
    redis: liveState.redis,
  });
  registerVideoMetrics(metrics.registry, live.hub);
  server.on('upgrade', live.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    server,
    app,
    services,
    logger,
    metrics,
    video: live.hub,
    close() {
      closing ??= (async () => {
        const started = Date.now();
        // The server keeps listening while it drains: /readyz answers 503 "draining" (so a
        // balancer stops sending traffic instead of seeing refused connections) and new API
        // requests get a 503 with Connection: close; running turns and streams finish.
        draining = true;
        server.closeIdleConnections();
        // Presence connections and video sockets never end by themselves: end them now.
        live.close();
        services.presence.close();
        const running = services.turns.activeCount();
        await services.turns.drain(config.shutdownGraceMs);
        // Open streams end by themselves once their turns have ended (after the final events);
        // give them a moment to get those out, then cut whatever is left.
        const flushBy = Date.now() + STREAM_FLUSH_MS;
        while (metrics.activeStreams() > 0 && Date.now() < flushBy) await sleep(20);
        const cut = metrics.activeStreams();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        // Every turn here has ended: the lease goes (nothing of ours is left to recover).
        await services.turns.close().catch((err: unknown) => logger.warn({ err }, 'giving the instance lease up failed'));
        await liveState.dispose().catch((err: unknown) => logger.warn({ err }, 'closing the live state failed'));
        await store.close();
        logger.info({ turns: running, cutStreams: cut, ms: Date.now() - started }, 'shut down');
      })();
      return closing;
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
