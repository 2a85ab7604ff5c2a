// Draws one publisher's live video on a <canvas>: frames arrive over a WebSocket
// (/live/ws?role=watch&clientId=…), are decoded with createImageBitmap and drawn as they
// arrive, one at a time and in order. Never queues: while a frame decodes, only the newest
// waiting frame is kept.
// Frame layout (see the README): u8 version, u8 format (1 JPEG, 2 WebP), u16 reserved,
// u32 BE sequence, f64 BE timestamp (epoch ms), then the image.
const TYPES = { 1: 'image/jpeg', 2: 'image/webp' };
const HEADER = 16;

export function mountLiveView(canvas, { clientId, token, user, onStats = () => {}, onStatus = () => {} }) {
  const ctx = canvas.getContext('2d');
  const stats = { frames: 0, skipped: 0, fps: 0, latencyMs: null, seq: 0 };
  const recent = [];
  let ws;
  let closed = false;
  let retryMs = 1000;
  let decoding = false;
  let waiting = null;

  const url = () => {
    const q = new URLSearchParams({ role: 'watch', clientId });
    if (token) q.set('token', token);
    if (user) q.set('user', user);
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live/ws?${q}`;
  };

  const draw = async (buf) => {
    const view = new DataView(buf);
    const seq = view.getUint32(4);
    const timestamp = view.getFloat64(8);
    const type = TYPES[view.getUint8(1)];
    if (!type) return;
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(buf, HEADER)], { type }));
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const now = Date.now();
    stats.seq = seq;
    stats.frames += 1;
    stats.latencyMs = Math.max(0, Math.round(now - timestamp));
    recent.push(now);
    while (recent.length && recent[0] < now - 1000) recent.shift();
    stats.fps = recent.length;
    canvas.dataset.frames = String(stats.frames);
    onStats({ ...stats });
  };

  const pump = async (buf) => {
    if (decoding) {
      if (waiting) stats.skipped += 1;
      waiting = buf;
      return;
    }
    decoding = true;
    try {
      await draw(buf);
    } catch (err) {
      onStatus(`cannot decode a frame: ${err.message}`);
    } finally {
      decoding = false;
    }
    if (waiting) {
      const next = waiting;
      waiting = null;
      void pump(next);
    }
  };

  const open = () => {
    ws = new WebSocket(url());
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      retryMs = 1000;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') {
        void pump(e.data);
        return;
      }
      const message = JSON.parse(e.data);
      if (message.type === 'hello') onStatus(message.publishing ? 'live' : 'waiting for the publisher…');
      if (message.type === 'publishing') onStatus('live');
      if (message.type === 'ended') onStatus('the publisher stopped');
    };
    ws.onclose = (e) => {
      if (closed) return;
      onStatus(e.code === 1006 ? 'not connected (unknown client, no access, or the server is away); retrying…' : `closed (${e.code} ${e.reason}); retrying…`);
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  };

  open();
  return {
    stats: () => ({ ...stats }),
    close() {
      closed = true;
      ws?.close();
    },
  };
}
