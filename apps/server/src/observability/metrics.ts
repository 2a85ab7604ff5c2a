import type { ServerResponse } from 'node:http';
import type { TurnObserver } from '@colloquy/api';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from './process-metrics.ts';

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
  collectProcessMetrics(registry);

  /** Responses not yet closed (streams among them); counted when asked, not per request. */
  const inFlight = new Set<ServerResponse>();
  const openStreams = (): number => {
    let n = 0;
    for (const res of inFlight) if (isStream(res)) n += 1;
    return n;
  };
  let connectedClients: () => number = openStreams;
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
      this.set(openStreams());
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
    activeStreams: openStreams,
    setConnectedClientsSource(count) {
      connectedClients = count;
    },
    setActiveTurnsSource(count) {
      activeTurns = count;
    },
    httpMiddleware(routeOf) {
      // Per request: a timestamp, a set entry and one 'close' listener. The route label is
      // looked up once the response has ended (it depends on the path alone), and whether a
      // response is a stream is only looked at when someone asks (`activeStreams`, a scrape).
      return (req, res, next) => {
        const started = performance.now();
        inFlight.add(res);
        res.once('close', () => {
          inFlight.delete(res);
          // originalUrl: mounted middleware (tRPC at /trpc) rewrites req.url while it runs.
          const route = routeOf(pathOf(req.originalUrl)) ?? (res.statusCode === 404 ? '(unmatched)' : '(static)');
          httpDuration.observe({ method: req.method, route, status_code: String(res.statusCode) }, (performance.now() - started) / 1000);
        });
        next();
      };
    },
  };
}

const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

/**
 * Whether a response is an open stream: its headers are out with a streaming content type.
 * (The header is visible through getHeader even when it was passed to writeHead: by then
 * X-Request-Id and the security headers are set, so Node merges writeHead's headers in.)
 */
const isStream = (res: ServerResponse): boolean =>
  res.headersSent && STREAMING_TYPES.test(String(res.getHeader('content-type') ?? ''));
