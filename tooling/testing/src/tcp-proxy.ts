import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  url: string;
  /** Destroys every open client connection (both sides), as a network failure would. */
  cutAll(): void;
  /**
   * The next `n` connections are answered with `response` (raw HTTP) instead of being
   * forwarded. Open connections are cut first, so clients that keep connections alive must
   * open new ones; resolves once they have had time to notice.
   */
  failNext(n: number, response: string): Promise<void>;
  /**
   * The next `n` connections are forwarded, but the server's answer is lost: both sides are cut
   * as its first bytes arrive (the server acted on the request; the client never hears of it).
   * Open connections are cut first, as for `failNext`.
   */
  loseNextResponses(n: number): Promise<void>;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A byte-level TCP proxy in front of a real server, so tests can kill connections mid-stream
 * or make the first attempts fail, without touching the server or the client under test.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let accepted = 0;
  let lastAcceptedAt = 0;
  /**
   * Until no connection has come in for a moment (bounded): a client may still be opening one
   * from before (e.g. a subscription it opened and cancelled at once), which must not take a
   * failure meant for the next request.
   */
  const quiet = async () => {
    const started = Date.now();
    while (Date.now() - lastAcceptedAt < 100 && Date.now() - started < 2_000) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  let failures: { left: number; response: string } = { left: 0, response: '' };
  let lostResponses = 0;

  const server: Server = createServer((client) => {
    accepted += 1;
    lastAcceptedAt = Date.now();
    if (failures.left > 0) {
      failures.left -= 1;
      const { response } = failures;
      client.once('data', () => client.end(response));
      client.on('error', () => undefined);
      return;
    }
    const upstream = connect(Number(port), hostname);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    if (lostResponses > 0) {
      lostResponses -= 1;
      upstream.once('data', drop);
      return;
    }
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${proxyPort}`,
    cutAll() {
      for (const s of open) s.destroy();
      open.clear();
    },
    async failNext(n, response) {
      for (const s of open) s.destroy();
      open.clear();
      // Connections the cut makes clients open again are served as usual, before the change.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await quiet();
      for (const s of open) s.destroy();
      open.clear();
      failures = { left: n, response };
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async loseNextResponses(n) {
      for (const s of open) s.destroy();
      open.clear();
      // Connections the cut makes clients open again are served as usual, before the change.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await quiet();
      for (const s of open) s.destroy();
      open.clear();
      lostResponses = n;
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    connections: () => accepted,
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw HTTP response for `failNext`. */
export function httpResponse(status: number, body: string, headers: Record<string, string> = {}): string {
  const lines = [`HTTP/1.1 ${status} Failure`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
