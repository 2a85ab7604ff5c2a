/**
 * The live-video wire format: one binary WebSocket message per frame.
 *
 *   offset 0   u8       version (1)
 *   offset 1   u8       format: 1 = JPEG, 2 = WebP
 *   offset 2   u16      reserved (0)
 *   offset 4   u32 BE   sequence number (the server renumbers: 1, 2, 3, … per publication)
 *   offset 8   f64 BE   timestamp: capture time, epoch milliseconds (0: the server stamps arrival)
 *   offset 16  …        the encoded image (a complete JPEG or WebP file)
 *
 * Text messages carry JSON control messages (see video-hub.ts).
 */
export const FRAME_HEADER_BYTES = 16;
export const FRAME_VERSION = 1;

export const FORMAT_CODES = { jpeg: 1, webp: 2 } as const;
export type FrameFormat = keyof typeof FORMAT_CODES;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** Checks a publisher's message; returns its format. Throws FrameError when it is not a frame. */
export function checkFrame(buf: Buffer): FrameFormat {
  if (buf.length < FRAME_HEADER_BYTES + 4) throw new FrameError('frame shorter than its header and an image');
  if (buf[0] !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${buf[0]}`);
  const image = buf.subarray(FRAME_HEADER_BYTES);
  if (buf[1] === FORMAT_CODES.jpeg) {
    if (image[0] !== 0xff || image[1] !== 0xd8) throw new FrameError('format JPEG but the image is not a JPEG');
    return 'jpeg';
  }
  if (buf[1] === FORMAT_CODES.webp) {
    if (image.length < 12 || image.toString('latin1', 0, 4) !== 'RIFF' || image.toString('latin1', 8, 12) !== 'WEBP') {
      throw new FrameError('format WebP but the image is not a WebP');
    }
    return 'webp';
  }
  throw new FrameError(`unknown frame format ${buf[1]}`);
}

/** Writes the server's sequence number (and the arrival time when the publisher sent none) into the frame. */
export function stampFrame(buf: Buffer, seq: number, now: number): void {
  buf.writeUInt32BE(seq >>> 0, 4);
  const ts = buf.readDoubleBE(8);
  if (!Number.isFinite(ts) || ts <= 0) buf.writeDoubleBE(now, 8);
}

/** Builds a frame message (tests and tools; the SDK has its own browser-safe copy). */
export function encodeFrame(format: FrameFormat, image: Uint8Array, timestamp: number, seq = 0): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + image.length);
  buf[0] = FRAME_VERSION;
  buf[1] = FORMAT_CODES[format];
  buf.writeUInt16BE(0, 2);
  buf.writeUInt32BE(seq >>> 0, 4);
  buf.writeDoubleBE(timestamp, 8);
  buf.set(image, FRAME_HEADER_BYTES);
  return buf;
}

export interface DecodedFrame {
  format: FrameFormat;
  seq: number;
  timestamp: number;
  image: Buffer;
}

export function decodeFrame(buf: Buffer): DecodedFrame {
  return {
    format: buf[1] === FORMAT_CODES.webp ? 'webp' : 'jpeg',
    seq: buf.readUInt32BE(4),
    timestamp: buf.readDoubleBE(8),
    image: buf.subarray(FRAME_HEADER_BYTES),
  };
}
