import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request as the fake upstream saw it. Times are `performance.now()` of this process. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  receivedAt: number;
  /** The client's port: two requests with the same one came over one (keep-alive) connection. */
  remotePort: number | undefined;
  /** When the response closed: finished by us, or cut by the client. */
  closedAt?: number;
  /** The client closed the connection before the response was complete. */
  closedEarly?: boolean;
}

export type FakeHandler = (rec: RecordedRequest, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface FakeServer {
  /** `http://127.0.0.1:port` */
  origin: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 and an ephemeral port that records every request. */
export async function startFakeServer(handler: FakeHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json: parseJson(body, req.headers['content-type']),
        receivedAt: performance.now(),
        remotePort: req.socket.remotePort,
      };
      requests.push(rec);
      res.on('close', () => {
        rec.closedAt = performance.now();
        rec.closedEarly = !res.writableFinished;
      });
      Promise.resolve(handler(rec, req, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(err) }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseJson(body: Buffer, contentType: string | undefined): unknown {
  if (!contentType?.includes('application/json')) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
