import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../../src/live/frame.ts';

/** A stand-in JPEG (the server checks only the SOI marker): SOI, a 4-byte index, filler, EOI. */
export function fakeJpeg(index: number, size = 64, fill?: Buffer): Buffer {
  const buf = Buffer.alloc(Math.max(size, 10));
  if (fill) fill.copy(buf, 0, 0, Math.min(fill.length, buf.length));
  buf[0] = 0xff;
  buf[1] = 0xd8;
  buf.writeUInt32BE(index, 2);
  buf[buf.length - 2] = 0xff;
  buf[buf.length - 1] = 0xd9;
  return buf;
}

export const frameOf = (index: number, size?: number, fill?: Buffer, timestamp = Date.now()) =>
  encodeFrame('jpeg', fakeJpeg(index, size, fill), timestamp);

export const wsUrl = (httpUrl: string, params: Record<string, string>) =>
  `${httpUrl.replace(/^http/, 'ws')}/live/ws?${new URLSearchParams(params).toString()}`;

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`upgrade refused with ${status}`);
  }
}

export interface ReceivedFrame {
  seq: number;
  index: number;
  timestamp: number;
  receivedAt: number;
  bytes: number;
}

export interface OpenedSocket {
  ws: WebSocket;
  /** The first text message (`ready` for publishers, `hello` for viewers). */
  first: Record<string, unknown>;
  /** Every frame received (decoded), from the start. */
  frames: ReceivedFrame[];
  /** Every text message received, the first included. */
  texts: Record<string, unknown>[];
}

/**
 * Opens a socket and records what it receives from the first byte (a late viewer's first frame
 * arrives together with its `hello`). Resolves after the first text message; rejects with
 * UpgradeRefused when the server answers the upgrade with an error.
 */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<OpenedSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: ReceivedFrame[] = [];
    const texts: Record<string, unknown>[] = [];
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        reject(new UpgradeRefused(res.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    ws.once('error', reject);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const f = decodeFrame(data as Buffer);
        frames.push({ seq: f.seq, index: f.image.readUInt32BE(2), timestamp: f.timestamp, receivedAt: Date.now(), bytes: f.image.length });
        return;
      }
      texts.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (texts.length === 1) resolve({ ws, first: texts[0]!, frames, texts });
    });
  });
}

export const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });

/**
 * Sends `count` frames at `fps`, on a schedule — but never two closer than one frame
 * interval, so a stalled event loop (GC, a busy CI machine) does not turn into a burst.
 */
export async function publishAt(ws: WebSocket, fps: number, count: number, frame: (i: number) => Buffer): Promise<number> {
  const interval = 1000 / fps;
  const start = performance.now();
  let last = -Infinity;
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const wait = Math.max(start + i * interval, last + interval) - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    last = performance.now();
    if (ws.readyState !== ws.OPEN) break;
    ws.send(frame(i));
    sent += 1;
  }
  return sent;
}

/** A metric's value from Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}
