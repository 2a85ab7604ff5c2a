import type { Services } from '@colloquy/api';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Readiness } from '../rest/schemas.ts';

export interface HealthOptions {
  services: Services;
  registry: Registry;
  /** How long each readiness check may take before it counts as unreachable. */
  readinessTimeoutMs: number;
  /** True once shutdown has begun: /readyz then answers 503 so balancers stop sending traffic. */
  isDraining(): boolean;
}

/** Resolves true when `check` succeeds within `ms`, false when it fails or takes longer. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness (`/healthz`: the process answers), readiness (`/readyz`: the store answers and every
 * agent is reachable) and the Prometheus exposition (`/metrics`). Mounted before any auth.
 */
export function healthRoutes(options: HealthOptions): Router {
  const { services, registry, readinessTimeoutMs } = options;
  const r = Router();

  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/readyz', async (_req, res) => {
    const shared = services.live.kind === 'redis';
    const [storeOk, redisOk, agentResults] = await Promise.all([
      within(readinessTimeoutMs, () => services.store.ping().then(() => true)),
      shared ? within(readinessTimeoutMs, () => services.live.ping().then(() => true)) : Promise.resolve(true),
      Promise.all(
        services.agents.list().map(async (a) => [a.info.id, await within(readinessTimeoutMs, () => a.checkReachable())] as const),
      ),
    ]);
    const ready = storeOk && redisOk && agentResults.every(([, ok]) => ok) && !options.isDraining();
    const body: Readiness = {
      status: ready ? 'ok' : options.isDraining() ? 'draining' : 'unavailable',
      // Which instance answered (several may serve behind one address).
      instance: services.live.instanceId,
      store: storeOk ? 'ok' : 'unreachable',
      storeDriver: services.store.driver,
      ...(shared ? { redis: redisOk ? ('ok' as const) : ('unreachable' as const) } : {}),
      agents: Object.fromEntries(agentResults.map(([id, ok]) => [id, ok ? 'ok' : 'unreachable'])),
    };
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json(body);
  });

  r.get('/metrics', async (_req, res) => {
    const text = await registry.metrics();
    res.status(200).set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(text);
  });

  return r;
}
