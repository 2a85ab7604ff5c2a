import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createLocalAgent } from '@colloquy/agents';
import { createServices, type Services } from '@colloquy/api';
import { openStore } from '@colloquy/store';
import { createApp } from './app.ts';
import type { ServerConfig } from './config.ts';
import { answerClientError } from './http/client-error.ts';

export interface RunningServer {
  url: string;
  server: Server;
  services: Services;
  /** Stops accepting, lets running turns finish up to the grace time, closes the store. */
  close(): Promise<void>;
}

/** The composition root: builds the store, the agents and the router, and listens. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const store = await openStore(config.databaseUrl);
  const services = createServices({
    config: {
      defaultUser: config.defaultUser,
      uploadRoots: config.uploadRoots,
      maxFileBytes: config.maxFileBytes,
      maxFilesPerBatch: config.maxFilesPerBatch,
      maxFilesPerTurn: config.maxFilesPerTurn,
      maxQueryChars: config.maxQueryChars,
    },
    store,
    agents: [createLocalAgent({ id: 'local', deltaDelayMs: config.localAgentDeltaDelayMs })],
    defaultAgent: config.defaultAgent,
    blobDir: join(config.dataDir, 'blobs'),
    streamRetentionMs: config.streamRetentionMs,
    flushIntervalMs: config.flushIntervalMs,
  });
  // Anything still `streaming` was cut off when a previous process died.
  await services.turns.recoverInterrupted();

  const server = createServer(createApp(config, services));
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
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
    services,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await services.turns.drain(config.shutdownGraceMs);
        // Open streams end once their turns have ended; anything left is cut.
        server.closeAllConnections();
        await stopped;
        await store.close();
      })();
      return closing;
    },
  };
}
