import type { VideoFrameInput } from '@colloquy/sdk';

/** Draws one frame of a source onto the canvas. */
export type Painter = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

/** The camera, drawn as it is. */
export async function cameraPainter(signal: AbortSignal): Promise<Painter> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  signal.addEventListener('abort', () => stream.getTracks().forEach((track) => track.stop()), { once: true });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  return (ctx, width, height) => ctx.drawImage(video, 0, 0, width, height);
}

/** A generated test pattern: colour bars sweeping sideways, and the time. */
export function patternPainter(): Painter {
  const colours = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0'];
  return (ctx, width, height) => {
    const shift = (Date.now() / 20) % width;
    const bar = width / colours.length;
    colours.forEach((c, i) => {
      ctx.fillStyle = c;
      const x = (i * bar + shift) % width;
      ctx.fillRect(x, 0, bar + 1, height);
      if (x + bar > width) ctx.fillRect(x - width, 0, bar + 1, height);
    });
    ctx.fillStyle = 'rgba(0,0,0,0.6)';
    ctx.fillRect(0, height - 40, width, 40);
    ctx.fillStyle = '#fff';
    ctx.font = '24px monospace';
    ctx.fillText(new Date().toISOString().slice(11, 23), 12, height - 12);
  };
}

/**
 * JPEG frames at `fps`: each tick paints the source on the canvas and encodes it; the capture
 * time is taken before encoding, so viewers' latency includes it.
 */
export async function* canvasFrames(canvas: HTMLCanvasElement, paint: Painter, fps: number, signal: AbortSignal): AsyncGenerator<VideoFrameInput> {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const interval = 1000 / fps;
  while (!signal.aborted) {
    const started = performance.now();
    paint(ctx, canvas.width, canvas.height);
    const timestamp = Date.now();
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.7));
    if (blob && !signal.aborted) yield { data: new Uint8Array(await blob.arrayBuffer()), format: 'jpeg', timestamp };
    const wait = interval - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
