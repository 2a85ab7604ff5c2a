import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';
import { cameraPainter, canvasFrames, patternPainter } from './publisher.ts';

/** "Publish my camera" or a test pattern, as this tab's client, at a chosen frame rate. */
export function Publisher() {
  const { t } = useI18n();
  const { client } = useSession();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [fps, setFps] = useState(10);
  const [running, setRunning] = useState<AbortController | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => () => running?.abort(), [running]);

  const start = async (source: 'camera' | 'pattern') => {
    const controller = new AbortController();
    setError(null);
    setRunning(controller);
    try {
      const paint = source === 'camera' ? await cameraPainter(controller.signal) : patternPainter();
      await client.video.publish(canvasFrames(canvas.current!, paint, fps, controller.signal), { signal: controller.signal });
    } catch (err) {
      if (!controller.signal.aborted) setError(err instanceof Error ? err.message : String(err));
    } finally {
      controller.abort();
      setRunning((r) => (r === controller ? null : r));
    }
  };
  return (
    <section className="publisher" aria-label={t.publishCamera}>
      <div className="row wrap">
        <label>
          {t.framesPerSecond}{' '}
          <input type="number" min={1} max={30} value={fps} disabled={running !== null} onChange={(e) => setFps(Math.min(30, Math.max(1, Number(e.target.value) || 1)))} />
        </label>
        {running ? (
          <button type="button" className="danger" onClick={() => running.abort()}>
            {t.stopPublishing}
          </button>
        ) : (
          <>
            <button type="button" className="primary" onClick={() => void start('camera')}>
              {t.publishCamera}
            </button>
            <button type="button" onClick={() => void start('pattern')}>
              {t.publishPattern}
            </button>
          </>
        )}
      </div>
      <canvas ref={canvas} width={320} height={240} className={running ? 'preview' : 'preview idle'} data-testid="publish-canvas" aria-hidden="true" />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
