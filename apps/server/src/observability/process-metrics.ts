import { readdir } from 'node:fs/promises';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * prom-client's default process and Node metrics, minus the work that blocks the event loop in
 * proportion to open connections (at 10,000 open streams a scrape stalled the loop for tens of
 * milliseconds): `process_open_fds` is a synchronous readdir of /proc/self/fd (~8 ms at 20,000
 * fds), so it is read asynchronously instead (same name and meaning); `nodejs_active_handles`
 * walks every libuv handle object to group them by class, so it is dropped — the cheaper
 * `nodejs_active_handles_total` and `nodejs_active_resources` stay.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  registry.removeSingleMetric('nodejs_active_handles');
  if (registry.getSingleMetric('process_open_fds')) {
    registry.removeSingleMetric('process_open_fds');
    new Gauge({
      name: 'process_open_fds',
      help: 'Number of open file descriptors.',
      registers: [registry],
      async collect() {
        try {
          // The listing includes the descriptor readdir itself holds open.
          this.set((await readdir('/proc/self/fd')).length - 1);
        } catch {
          // Not Linux after all, or /proc is hidden: leave the last value.
        }
      },
    });
  }
}
