/**
 * The SDK's presence connection, client list and watch, and live video (issue 6), against a
 * real server process behind a TCP proxy.
 */
import { waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ColloquyError,
  createClient,
  NotFoundError,
  UnauthorizedError,
  type ClientEvent,
  type ColloquyClient,
  type VideoFrame,
  type VideoFrameInput,
} from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const TIMEOUT_MS = 1000;

/** A stand-in JPEG: SOI, the frame's index, EOI (the server checks only the markers). */
const fakeJpeg = (i: number, size = 256) => {
  const b = new Uint8Array(size);
  b.set([0xff, 0xd8]);
  new DataView(b.buffer).setUint32(2, i);
  b.set([0xff, 0xd9], size - 2);
  return b;
};
const indexOf = (f: VideoFrame) => new DataView(f.data.buffer, f.data.byteOffset).getUint32(2);

/** Frames at `fps`, never two closer than one interval (a stalled loop does not burst). */
async function* framesAt(fps: number, count: number, size = 256): AsyncGenerator<VideoFrameInput> {
  const interval = 1000 / fps;
  const start = Date.now();
  let last = -Infinity;
  for (let i = 0; i < count; i++) {
    const wait = Math.max(start + i * interval, last + interval) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    last = Date.now();
    yield { data: fakeJpeg(i, size), format: 'jpeg' };
  }
}

let fx: SdkFixture;
const opened: ColloquyClient[] = [];
/** A client through the proxy; closed after the suite. */
const client = (options: Partial<Parameters<typeof createClient>[0]> = {}) => {
  const c = createClient({ baseUrl: fx.proxy.url, ...options });
  opened.push(c);
  return c;
};

beforeAll(async () => {
  fx = await startSdkFixture({ PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS), MAX_VIDEO_FRAME_BYTES: '64kb' });
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await fx?.dispose();
});

describe('presence', () => {
  it('lists the client while it is open, keeps it listed by heartbeats, and drops it on close()', async () => {
    const observer = client({ user: 'ann', presence: false });
    const device = client({ user: 'ann', kind: 'robot', name: 'R2', metadata: { battery: 87, tags: ['lab'] } });
    await device.clients.ready();
    const [listed] = (await observer.clients.list()).clients;
    expect(listed).toMatchObject({
      id: device.clientId,
      userId: 'ann',
      kind: 'robot',
      name: 'R2',
      metadata: { battery: 87, tags: ['lab'] },
      ip: '127.0.0.1',
      openStreams: 0,
      publishing: false,
    });
    // Well past the timeout, still there: the SDK heartbeats by itself.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 1.5));
    const later = (await observer.clients.list()).clients;
    expect(later.map((c) => [c.id, c.connectedAt])).toEqual([[device.clientId, listed!.connectedAt]]);

    await device.close();
    await waitFor(async () => (await observer.clients.list()).count === 0, 1000);
    // A client without presence is never listed, and says so.
    await expect(observer.clients.ready()).rejects.toBeInstanceOf(ColloquyError);
  });

  it('reconnects with the same id after its connection is cut', async () => {
    const c = client({ user: 'ben', presence: true });
    await c.clients.ready();
    // Watched directly on the server (not through the proxy, whose connections are cut).
    const observer = createClient({ baseUrl: fx.server.url, user: 'ben', presence: false });
    const events: ClientEvent[] = [];
    const watch = observer.clients.watch();
    void (async () => {
      for await (const e of watch) events.push(e);
    })();
    await waitFor(async () => events.length > 0);
    fx.proxy.cutAll();
    // Gone (the socket died) and back (the SDK reconnected), under the same id.
    await waitFor(async () => events.some((e) => e.type === 'joined'), 5000);
    expect(events.slice(1).map((e) => [e.type, e.type === 'snapshot' ? null : e.client.id])).toEqual([
      ['left', c.clientId],
      ['joined', c.clientId],
    ]);
    expect((await observer.clients.list()).clients.map((x) => x.id)).toEqual([c.clientId]);
    watch.close();
    await observer.close();
    await c.close();
  });

  it('counts the streams a client has open', async () => {
    const observer = client({ user: 'cleo', presence: false });
    const c = client({ user: 'cleo', presence: true });
    await c.clients.ready();
    const stream = c.stream({ query: 'Tell me about rocket engines and turbopumps, at length.' });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    expect((await observer.clients.list()).clients[0]?.openStreams).toBe(1);
    await stream.final();
    await waitFor(async () => (await observer.clients.list()).clients[0]?.openStreams === 0);
    await c.close();
  });

  it('watch() yields a snapshot, then joins, changes and leaves', async () => {
    const observer = client({ user: 'dora', presence: false });
    const events: ClientEvent[] = [];
    const watch = observer.clients.watch();
    const reading = (async () => {
      for await (const e of watch) events.push(e);
    })();
    await waitFor(async () => events.length > 0);
    expect(events[0]).toEqual({ type: 'snapshot', clients: [] });
    const c = client({ user: 'dora', name: 'watched' });
    await c.clients.ready();
    // Someone else's client is not seen.
    const other = client({ user: 'not-dora', presence: true });
    await other.clients.ready();
    await c.close();
    await waitFor(async () => events.some((e) => e.type === 'left'));
    watch.close();
    await reading;
    expect(events.slice(1).map((e) => [e.type, e.type === 'snapshot' ? null : e.client.id])).toEqual([
      ['joined', c.clientId],
      ['left', c.clientId],
    ]);
  });
});

describe('video', () => {
  it('publishes frames that a viewer receives in order, marked publishing while it lasts', async () => {
    const cam = client({ user: 'eve', kind: 'camera' });
    const viewerClient = client({ user: 'eve', presence: false });
    await cam.clients.ready();

    const watch = viewerClient.video.watch(cam.clientId);
    await watch.ready;
    expect(watch.publishing).toBe(false);
    const received: VideoFrame[] = [];
    const reading = (async () => {
      for await (const frame of watch) {
        received.push(frame);
        if (received.length === 60) break;
      }
    })();

    const publishing = cam.video.publish(framesAt(30, 60));
    await waitFor(async () => (await viewerClient.clients.list()).clients[0]?.publishing === true, 3000);
    const result = await publishing;
    expect(result).toEqual({ clientId: cam.clientId, sent: 60, skipped: 0 });
    await reading;

    expect(received.map(indexOf)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(received.map((f) => f.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(received.every((f) => f.format === 'jpeg' && f.timestamp <= f.receivedAt)).toBe(true);
    await waitFor(async () => (await viewerClient.clients.list()).clients[0]?.publishing === false);
  });

  it('reports refusals as typed errors', async () => {
    const c = client({ user: 'fay', presence: true });
    await c.clients.ready();
    const watch = c.video.watch('no-such-client');
    await expect(watch.ready).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      (async () => {
        for await (const _ of watch) void _;
      })(),
    ).rejects.toBeInstanceOf(NotFoundError);

    const tooBig = c.video.publish([{ data: fakeJpeg(1, 100 * 1024), format: 'jpeg' }]);
    await expect(tooBig).rejects.toBeInstanceOf(BadRequestError);
    await expect(tooBig).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('with API keys', () => {
  let keyed: SdkFixture;
  const KEY = 'sdk-presence-key-00001';
  beforeAll(async () => {
    keyed = await startSdkFixture({ API_KEYS: `${KEY}:gina:user`, PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS) });
  });
  afterAll(() => keyed?.dispose());

  it('registers presence and publishes with the key; refuses without it', async () => {
    const c = createClient({ baseUrl: keyed.proxy.url, apiKey: KEY, name: 'keyed' });
    try {
      await c.clients.ready();
      expect((await c.clients.list()).clients).toEqual([expect.objectContaining({ id: c.clientId, userId: 'gina', name: 'keyed' })]);
      const watch = c.video.watch(c.clientId);
      await watch.ready;
      const result = await c.video.publish(framesAt(30, 3));
      expect(result.sent).toBe(3);
      watch.close();

      const anonymous = createClient({ baseUrl: keyed.proxy.url, presence: true });
      await expect(anonymous.clients.ready()).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(anonymous.video.publish(framesAt(30, 1))).rejects.toBeInstanceOf(UnauthorizedError);
      await anonymous.close();
    } finally {
      await c.close();
    }
  });
});
