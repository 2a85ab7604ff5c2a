import { Counter, Gauge, type Registry } from 'prom-client';
import type { VideoHub } from './video-hub.ts';

/** Live-video metrics on the server's registry, read from the hub's counters at scrape time. */
export function registerVideoMetrics(registry: Registry, hub: VideoHub): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('colloquy_video_publishers', 'Clients publishing live video right now', () => hub.stats().publishers);
  gauge('colloquy_video_viewers', 'Live-video viewers connected right now', () => hub.stats().viewers);

  // Counters mirror the hub's monotonic totals (set to the difference since the last scrape).
  const counter = <L extends string>(name: string, help: string, labelNames: L[], read: () => Record<string, number>) => {
    const seen: Record<string, number> = {};
    return new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const [label, value] of Object.entries(read())) {
          const delta = Math.max(0, value - (seen[label] ?? 0));
          seen[label] = value;
          if (labelNames.length === 0) this.inc(delta);
          else this.inc({ [labelNames[0] as string]: label } as Record<L, string>, delta);
        }
      },
    });
  };
  counter('colloquy_video_frames_in_total', 'Frames accepted from publishers', [], () => ({ all: hub.stats().framesIn }));
  counter('colloquy_video_frames_out_total', 'Frames written to viewers', [], () => ({ all: hub.stats().framesOut }));
  counter('colloquy_video_frames_dropped_total', 'Frames not relayed, by reason (slow_viewer, rate)', ['reason'], () => {
    const { slowViewer, rate } = hub.stats().framesDropped;
    return { slow_viewer: slowViewer, rate };
  });
  counter('colloquy_video_frames_refused_total', 'Publisher messages refused (socket closed), by reason (oversized, invalid)', ['reason'], () =>
    hub.stats().framesRefused,
  );
}
