import { ColloquyError, ConnectionError, errorForStatus } from './errors.ts';
import { openWebSocket, type UpgradeRefusal, type WebSocketConstructor, type WebSocketLike } from './websocket.ts';

export type VideoFormat = 'jpeg' | 'webp';

/** A frame to publish: one encoded image. */
export interface VideoFrameInput {
  data: Uint8Array;
  format: VideoFormat;
  /** Capture time, epoch ms (default: now). Viewers compute latency from it. */
  timestamp?: number;
}

/** A frame a viewer received. */
export interface VideoFrame {
  data: Uint8Array;
  format: VideoFormat;
  /** Capture time the publisher gave (epoch ms). */
  timestamp: number;
  /** The server's sequence number: 1, 2, 3, … per publication; gaps are frames dropped for this viewer. */
  seq: number;
  /** When this frame arrived (epoch ms). */
  receivedAt: number;
}

export interface PublishOptions {
  /** Stops publishing (the returned promise then resolves). */
  signal?: AbortSignal;
}

export interface PublishResult {
  /** The id viewers watch (this client's id). */
  clientId: string;
  /** Frames written to the socket. */
  sent: number;
  /** Frames skipped because the connection had not taken the previous ones yet. */
  skipped: number;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Frames held for a consumer that reads slower than they arrive; older ones are dropped. Default 4. */
  buffer?: number;
}

/** A viewer's frames. Iterate it; `close()` (or `break`) ends watching. */
export interface VideoWatch extends AsyncIterable<VideoFrame> {
  /** Resolves once the server accepted the viewer. */
  readonly ready: Promise<void>;
  /** Whether the watched client is publishing right now (after `ready`). */
  readonly publishing: boolean;
  /** Frames dropped here because the consumer had not taken them. */
  readonly dropped: number;
  close(): void;
}

export interface VideoOptions {
  baseUrl: string;
  clientId: string;
  apiKey: string | undefined;
  user: string | undefined;
  headers: Record<string, string>;
  webSocket: WebSocketConstructor | undefined;
}

// Wire format (see the server's live/frame.ts): u8 version, u8 format, u16 reserved,
// u32 BE sequence, f64 BE timestamp (epoch ms), then the image.
const HEADER = 16;
const FORMAT_CODE: Record<VideoFormat, number> = { jpeg: 1, webp: 2 };

export function encodeVideoFrame(frame: VideoFrameInput): Uint8Array {
  const out = new Uint8Array(HEADER + frame.data.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, 1);
  view.setUint8(1, FORMAT_CODE[frame.format]);
  view.setFloat64(8, frame.timestamp ?? Date.now());
  out.set(frame.data, HEADER);
  return out;
}

export function decodeVideoFrame(buf: ArrayBuffer | Uint8Array, receivedAt = Date.now()): VideoFrame {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    format: view.getUint8(1) === FORMAT_CODE.webp ? 'webp' : 'jpeg',
    seq: view.getUint32(4),
    timestamp: view.getFloat64(8),
    data: bytes.subarray(HEADER),
    receivedAt,
  };
}

/** Close codes and what they mean for a caller. */
function closeError(code: number, reason: string): ColloquyError | undefined {
  if (code === 1000 || code === 1001 || code === 4410) return undefined;
  if (code === 1009) return errorForStatus(413, `frame too large: ${reason || 'over MAX_VIDEO_FRAME_BYTES'}`, { code: 'PAYLOAD_TOO_LARGE' });
  if (code === 1007 || code === 1003) return errorForStatus(400, `refused: ${reason || 'not a video frame'}`, {});
  if (code === 1013) return errorForStatus(429, reason || 'too many viewers', {});
  if (code === 4409) return new ColloquyError(reason || 'replaced by a newer publisher', { status: 409, code: 'REPLACED' });
  return new ConnectionError(`the video connection closed (${code}${reason ? ` ${reason}` : ''})`, { status: 0, code: 'CONNECTION_ERROR' });
}

function refusalError(refusal: UpgradeRefusal): ColloquyError {
  let message = `HTTP ${refusal.status}`;
  try {
    const body = JSON.parse(refusal.body) as { message?: string; error?: string };
    if (body.error) message = body.message ? `${body.message}: ${body.error}` : body.error;
  } catch {
    // not JSON: keep the status
  }
  return errorForStatus(refusal.status, message, {});
}

export class Video {
  readonly #options: VideoOptions;

  constructor(options: VideoOptions) {
    this.#options = options;
  }

  #open(params: Record<string, string>, onRefused: (r: UpgradeRefusal) => void): Promise<WebSocketLike> {
    const { baseUrl, apiKey, user, headers, webSocket } = this.#options;
    const base = baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
    const url = (headersSupported: boolean) => {
      const q = new URLSearchParams(params);
      // Browsers cannot set headers on a WebSocket: the key and the user go in the query.
      if (!headersSupported && apiKey) q.set('token', apiKey);
      if (user) q.set('user', user);
      return `${base}/live/ws?${q.toString()}`;
    };
    return openWebSocket(url, headers, webSocket, onRefused);
  }

  /**
   * Publishes frames from `source` as this client's live video until the source ends (or the
   * signal aborts), then closes. Frames are never queued: one that arrives while the previous
   * is still being written is skipped. The server accepts up to its MAX_VIDEO_FPS (faster
   * frames are dropped there) and refuses frames over MAX_VIDEO_FRAME_BYTES (the promise then
   * rejects with a BadRequestError, code PAYLOAD_TOO_LARGE).
   */
  async publish(source: AsyncIterable<VideoFrameInput> | Iterable<VideoFrameInput>, options: PublishOptions = {}): Promise<PublishResult> {
    const result: PublishResult = { clientId: this.#options.clientId, sent: 0, skipped: 0 };
    let refusal: UpgradeRefusal | undefined;
    const ws = await this.#open({ role: 'publish', clientId: this.#options.clientId }, (r) => {
      refusal = r;
    });
    ws.binaryType = 'arraybuffer';
    let closed: { code: number; reason: string } | undefined;
    let onClosed: (() => void) | undefined;
    const closedPromise = new Promise<void>((resolve) => {
      onClosed = resolve;
    });
    ws.addEventListener('close', (e) => {
      closed = { code: e.code, reason: e.reason };
      onClosed?.();
    });
    ws.addEventListener('error', () => undefined);
    const failure = () => (refusal ? refusalError(refusal) : closeError(closed?.code ?? 1006, closed?.reason ?? ''));
    // Ready: the server's first message. Frames sent earlier might race a refusal.
    await Promise.race([
      new Promise<void>((resolve) => ws.addEventListener('message', () => resolve())),
      closedPromise,
    ]);
    if (closed) throw failure() ?? new ConnectionError('the video connection closed before it was ready', { status: 0, code: 'CONNECTION_ERROR' });

    const signal = options.signal;
    try {
      for await (const frame of source) {
        if (closed || signal?.aborted) break;
        const encoded = encodeVideoFrame(frame);
        // More than about a frame still buffered means the network is behind: skip rather than queue.
        if (ws.bufferedAmount > Math.max(encoded.length, 64 * 1024)) {
          result.skipped += 1;
          continue;
        }
        ws.send(encoded);
        result.sent += 1;
      }
    } finally {
      if (!closed) {
        // Let the last frames out before saying goodbye.
        for (let i = 0; i < 100 && ws.bufferedAmount > 0 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
        ws.close(1000, 'done');
        await Promise.race([closedPromise, new Promise((r) => setTimeout(r, 2000))]);
      }
    }
    const end = closed as { code: number } | undefined;
    if (end && end.code !== 1000) {
      const err = failure();
      if (err) throw err;
    }
    return result;
  }

  /** Watches a client's live video: its latest frame at once (if it publishes), then each new one. */
  watch(clientId: string, options: WatchOptions = {}): VideoWatch {
    const bufferSize = Math.max(1, options.buffer ?? 4);
    const queue: VideoFrame[] = [];
    let wake: (() => void) | undefined;
    let ws: WebSocketLike | undefined;
    let ended = false;
    let error: ColloquyError | undefined;
    let refusal: UpgradeRefusal | undefined;
    let publishing = false;
    let dropped = 0;
    let settleReady: { resolve(): void; reject(e: unknown): void } | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settleReady = { resolve, reject };
    });
    ready.catch(() => undefined);

    const end = (err?: ColloquyError) => {
      if (ended) return;
      ended = true;
      error = err;
      if (err) settleReady?.reject(err);
      else settleReady?.resolve();
      wake?.();
    };
    const close = () => {
      if (ended) return;
      end();
      ws?.close(1000);
    };
    options.signal?.addEventListener('abort', close, { once: true });

    this.#open({ role: 'watch', clientId }, (r) => {
      refusal = r;
    }).then(
      (socket) => {
        ws = socket;
        if (ended) {
          socket.close(1000);
          return;
        }
        socket.binaryType = 'arraybuffer';
        socket.addEventListener('message', (e) => {
          if (typeof e.data === 'string') {
            const message = JSON.parse(e.data) as { type: string; publishing?: boolean };
            if (message.type === 'hello') {
              publishing = message.publishing === true;
              settleReady?.resolve();
            } else if (message.type === 'publishing') publishing = true;
            else if (message.type === 'ended') publishing = false;
            return;
          }
          if (queue.length >= bufferSize) {
            queue.shift();
            dropped += 1;
          }
          queue.push(decodeVideoFrame(e.data as ArrayBuffer));
          wake?.();
        });
        socket.addEventListener('error', () => undefined);
        socket.addEventListener('close', (e) => end(refusal ? refusalError(refusal) : closeError(e.code, e.reason)));
      },
      (err: unknown) => end(new ConnectionError(err instanceof Error ? err.message : String(err), { status: 0, code: 'CONNECTION_ERROR', cause: err })),
    );

    return {
      ready,
      get publishing() {
        return publishing;
      },
      get dropped() {
        return dropped;
      },
      close,
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const frame = queue.shift();
            if (frame) {
              yield frame;
              continue;
            }
            if (ended) {
              if (error) throw error;
              return;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          close();
        }
      },
    };
  }
}
