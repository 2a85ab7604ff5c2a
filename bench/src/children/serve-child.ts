import type { Server } from 'node:http';

/**
 * How every benchmark child serves: on 127.0.0.1 only, on PORT (or a free port), announcing
 * `listening on <url>` for the parent to read, and exiting on SIGTERM.
 */
export function serveChild(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.maxConnections = 30_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
