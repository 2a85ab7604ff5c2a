import type { ColloquyClient } from '@colloquy/sdk';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../app/i18n.tsx';

interface Stats {
  fps: number;
  latencyMs: number | null;
  frames: number;
  state: 'connecting' | 'waiting' | 'live' | 'ended' | 'error';
  error?: string;
}

/**
 * One client's live video drawn on a <canvas> as frames arrive (`video.watch`, decoded with
 * createImageBitmap), never queued: the SDK keeps a few frames and drops older ones, and each
 * is drawn when the previous one is done. Overlay: fps over the last second, latency (capture
 * to draw) and frames drawn. Reconnects when the publisher goes away and comes back.
 */
export function LiveViewer({ client, clientId }: { client: ColloquyClient; clientId: string }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [stats, setStats] = useState<Stats>({ fps: 0, latencyMs: null, frames: 0, state: 'connecting' });

  useEffect(() => {
    let stopped = false;
    let watch: ReturnType<ColloquyClient['video']['watch']> | undefined;
    const recent: number[] = [];
    let frames = 0;
    // The server says when the publisher stops or starts again (the watch stays open meanwhile).
    const poll = setInterval(() => {
      if (!watch || stopped) return;
      const publishing = watch.publishing;
      setStats((s) => (s.state === 'live' && !publishing ? { ...s, fps: 0, state: 'waiting' } : s.state === 'waiting' && publishing ? { ...s, state: 'live' } : s));
    }, 500);
    const run = async () => {
      while (!stopped) {
        watch = client.video.watch(clientId, { buffer: 2 });
        try {
          await watch.ready;
          if (!stopped) setStats((s) => ({ ...s, state: watch?.publishing ? 'live' : 'waiting', error: undefined }));
          for await (const frame of watch) {
            if (stopped) break;
            const bitmap = await createImageBitmap(new Blob([frame.data as BlobPart], { type: frame.format === 'webp' ? 'image/webp' : 'image/jpeg' }));
            const c = canvas.current;
            if (!c) {
              bitmap.close();
              break;
            }
            if (c.width !== bitmap.width || c.height !== bitmap.height) {
              c.width = bitmap.width;
              c.height = bitmap.height;
            }
            c.getContext('2d')?.drawImage(bitmap, 0, 0);
            bitmap.close();
            const now = Date.now();
            frames += 1;
            recent.push(now);
            while (recent.length > 0 && recent[0]! < now - 1000) recent.shift();
            c.dataset.frames = String(frames);
            setStats({ fps: recent.length, latencyMs: Math.max(0, Math.round(now - frame.timestamp)), frames, state: 'live' });
          }
          if (!stopped) setStats((s) => ({ ...s, fps: 0, state: 'ended' }));
        } catch (err) {
          if (!stopped) setStats((s) => ({ ...s, fps: 0, state: 'error', error: err instanceof Error ? err.message : String(err) }));
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void run();
    return () => {
      stopped = true;
      clearInterval(poll);
      watch?.close();
    };
  }, [client, clientId]);

  const stateLabel = { connecting: t.connecting, waiting: t.waitingForFrames, live: t.live, ended: t.ended, error: t.error }[stats.state];
  return (
    <figure className="live-view">
      <div className="canvas-wrap">
        <canvas ref={canvas} width={640} height={360} data-testid="live-canvas" aria-label={`${t.liveVideo}: ${clientId}`} role="img" />
        <div className="overlay" aria-live="off">
          <span>
            {t.fps} <b id="fps">{stats.fps}</b>
          </span>
          <span>
            {t.latency} <b id="latency">{stats.latencyMs === null ? '–' : `${stats.latencyMs} ms`}</b>
          </span>
          <span>
            {t.frames} <b id="frames">{stats.frames}</b>
          </span>
        </div>
      </div>
      <figcaption>
        <code>{clientId}</code> · <span role="status" id="status">{stateLabel}</span>
        {stats.error && <span className="error"> {stats.error}</span>}
      </figcaption>
    </figure>
  );
}
