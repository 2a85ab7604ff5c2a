import type { ServerResponse } from 'node:http';
import type { TurnObserver } from '@colloquy/api';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Content types of long-lived streaming responses (tRPC SSE subscriptions, REST NDJSON). */
const STREAMING_TYPES = /^(text\/event-stream|application\/x-ndjson)\b/i;

export interface Metrics {
  registry: Registry;
  /** Implements the api package's turn hooks: first-token and turn time, tokens, turns. */
  turnObserver: TurnObserver;
  /**
   * Times every HTTP request by route and status, and counts open streaming responses. `routeOf`
   * names the route from the request path with a bounded set of labels (never the raw URL).
   */
  httpMiddleware(routeOf: (path: string) => string | undefined): RequestHandler;
  /** Open streaming responses right now. */
  activeStreams(): number;
  /**
   * The seam for presence: what `colloquy_connected_clients` reports. Until clients are tracked
   * it is the number of open streaming connections.
   */
  setConnectedClientsSource(count: () => number): void;
  /** Reports running turns (`colloquy_turns_active`) from the turn service. */
  setActiveTurnsSource(count: () => number): void;
}

/** prom-client metrics on a registry of their own (several servers may share a process in tests). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  let openStreams = 0;
  let connectedClients: () => number = () => openStreams;
  let activeTurns: () => number = () => 0;

  const httpDuration = new Histogram({
    name: 'colloquy_http_request_duration_seconds',
    help: 'HTTP request duration (for streams: until the stream ended), by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const streamsGauge = new Gauge({
    name: 'colloquy_active_streams',
    help: 'Open streaming responses (tRPC SSE subscriptions and REST NDJSON answers)',
    registers: [registry],
    collect() {
      this.set(openStreams);
    },
  });
  void streamsGauge;
  new Gauge({
    name: 'colloquy_connected_clients',
    help: 'Connected clients (presence connections and video publishers; see GET /get_client_list)',
    registers: [registry],
    collect() {
      this.set(connectedClients());
    },
  });
  new Gauge({
    name: 'colloquy_turns_active',
    help: 'Agent turns generating right now',
    registers: [registry],
    collect() {
      this.set(activeTurns());
    },
  });
  const firstToken = new Histogram({
    name: 'colloquy_agent_first_token_seconds',
    help: 'Time from the start of an agent run to its first answer text, by agent',
    labelNames: ['agent'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
    registers: [registry],
  });
  const turnDuration = new Histogram({
    name: 'colloquy_turn_duration_seconds',
    help: 'Total time of an agent turn, by agent and final status',
    labelNames: ['agent', 'status'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'colloquy_tokens_total',
    help: 'Tokens reported by agents, by agent and kind (prompt, completion)',
    labelNames: ['agent', 'kind'] as const,
    registers: [registry],
  });
  const turns = new Counter({
    name: 'colloquy_turns_total',
    help: 'Finished agent turns, by agent and final status',
    labelNames: ['agent', 'status'] as const,
    registers: [registry],
  });

  const turnObserver: TurnObserver = {
    onTurnStarted() {
      // Counted when they end (with their status); colloquy_turns_active shows running ones.
    },
    onFirstToken(agentId, ms) {
      firstToken.observe({ agent: agentId }, ms / 1000);
    },
    onTurnEnded(agentId, status, usage, ms) {
      turnDuration.observe({ agent: agentId, status }, ms / 1000);
      turns.inc({ agent: agentId, status });
      if (usage) {
        if (usage.promptTokens > 0) tokens.inc({ agent: agentId, kind: 'prompt' }, usage.promptTokens);
        if (usage.completionTokens > 0) tokens.inc({ agent: agentId, kind: 'completion' }, usage.completionTokens);
      }
    },
  };

  return {
    registry,
    turnObserver,
    activeStreams: () => openStreams,
    setConnectedClientsSource(count) {
      connectedClients = count;
    },
    setActiveTurnsSource(count) {
      activeTurns = count;
    },
    httpMiddleware(routeOf) {
      return (req, res, next) => {
        const started = process.hrtime.bigint();
        // originalUrl: mounted middleware (tRPC at /trpc) rewrites req.url while it runs.
        const path = req.originalUrl.split('?', 1)[0] ?? '/';
        const known = routeOf(path);
        let streaming = false;
        onHeaders(res, () => {
          if (STREAMING_TYPES.test(String(res.getHeader('content-type') ?? ''))) {
            streaming = true;
            openStreams += 1;
          }
        });
        res.once('close', () => {
          if (streaming) openStreams -= 1;
          const route = known ?? (res.statusCode === 404 ? '(unmatched)' : '(static)');
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          httpDuration.observe({ method: req.method, route, status_code: String(res.statusCode) }, seconds);
        });
        next();
      };
    },
  };
}

/** Runs `listener` once, just before the response's headers are written. */
function onHeaders(res: ServerResponse, listener: () => void): void {
  const writeHead = res.writeHead;
  let fired = false;
  res.writeHead = function patchedWriteHead(this: ServerResponse, ...args: unknown[]) {
    if (!fired) {
      fired = true;
      // Headers passed to writeHead itself are not visible through getHeader yet.
      const headers = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) as Record<string, unknown> | undefined;
      if (headers) {
        for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'content-type' && v !== undefined) this.setHeader(k, v as string);
      }
      listener();
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}
