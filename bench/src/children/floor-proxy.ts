/**
 * The floor: the least a gateway can add. A pass-through proxy on bare node:http that pipes
 * each request to the same upstream (TARGET) over a keep-alive agent and pipes the answer
 * back, unparsed. No framework, no parsing, no storage.
 *
 * GET /_floor/stats (bench only): RSS, heap used and event-loop delay p99 since the last call.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serveChild } from './serve-child.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:1');
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const key in headers) if (!HOP_BY_HOP.has(key)) out[key] = headers[key];
  return out;
}

const server = createServer((req, res) => {
  if (req.url === '/_floor/stats') {
    const body = JSON.stringify({
      rss: process.memoryUsage.rss(),
      heapUsed: process.memoryUsage().heapUsed,
      eldP99Ms: eld.percentile(99) / 1e6,
      eldMaxMs: eld.max / 1e6,
    });
    eld.reset();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
    return;
  }
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...forwardable(req.headers), host: target.host },
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end('{"error":"upstream failed"}');
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
});
serveChild(server);
