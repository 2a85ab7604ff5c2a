/**
 * Live video (issue 6): publishers send JPEG/WebP frames over a WebSocket (/live/ws), the server
 * keeps each publisher's latest frame and relays frames to its viewers, dropping frames for a
 * viewer that has not taken the previous ones (memory stays bounded), and refuses oversized
 * frames, non-frames and unauthenticated sockets.
 */
import { randomBytes } from 'node:crypto';
import { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs, waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';
import { createTestClient } from './support/trpc-client.ts';
import {
  closed,
  frameOf,
  metricValue,
  openSocket,
  publishAt,
  UpgradeRefused,
  wsUrl,
  type ReceivedFrame,
} from './support/video-helpers.ts';
import type { Json } from './support/http-helpers.ts';

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the upgrade to be refused');
    },
    (err: unknown) => {
      if (!(err instanceof UpgradeRefused)) throw err;
      return { status: err.status, body: err.body as Json };
    },
  );

function expectInOrderWithoutDuplicates(frames: ReceivedFrame[]): void {
  for (let i = 1; i < frames.length; i++) {
    expect(frames[i]!.seq, `seq after ${frames[i - 1]!.seq}`).toBeGreaterThan(frames[i - 1]!.seq);
    expect(frames[i]!.index).toBeGreaterThan(frames[i - 1]!.index);
  }
  expect(new Set(frames.map((f) => f.index)).size).toBe(frames.length);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('live video without API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PRESENCE_TIMEOUT_MS: '2000', MAX_VIDEO_FRAME_BYTES: '256kb' });
  });
  afterAll(() => server?.dispose());

  const publisher = (params: Record<string, string> = {}) => openSocket(wsUrl(server.url, { role: 'publish', ...params }));
  const viewer = (clientId: string, params: Record<string, string> = {}) =>
    openSocket(wsUrl(server.url, { role: 'watch', clientId, ...params }));
  const clientsOf = async (user?: string) =>
    (await createTestClient(server.url, user ? { 'x-colloquy-user': user } : {}).clients.list.query()).clients;

  it('relays 30 fps for 5 s to 3 viewers, every frame in order, no duplicates', async () => {
    const pub = await publisher({ clientId: 'cam-30', user: 'alice' });
    expect(pub.first).toEqual({ type: 'ready', clientId: 'cam-30', maxFrameBytes: 256 * 1024, maxFps: 30 });
    // The publisher is a connected client of its user, marked as publishing.
    expect(await clientsOf('alice')).toEqual([expect.objectContaining({ id: 'cam-30', kind: 'video', publishing: true })]);

    const viewers = await Promise.all([1, 2, 3].map(() => viewer('cam-30')));
    for (const v of viewers) expect(v.first).toEqual({ type: 'hello', clientId: 'cam-30', publishing: true });
    const records = viewers;
    const before = server.video.stats();

    const sent = await publishAt(pub.ws, 30, 150, (i) => frameOf(i, 4096));
    expect(sent).toBe(150);
    const accepted = () => server.video.stats().framesIn - before.framesIn;
    await waitFor(async () => records.every((r) => r.frames.length === 150), 3000).catch(() => undefined);

    const stats = server.video.stats();
    // A publisher keeping to 30 fps loses nothing to the rate limit (its burst absorbs timer jitter).
    expect(stats.framesDropped.rate - before.framesDropped.rate).toBe(0);
    expect(accepted()).toBe(150);
    for (const r of records) {
      expect(r.frames).toHaveLength(150);
      expectInOrderWithoutDuplicates(r.frames);
      expect(r.frames.map((f) => f.index)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    }
    expect(stats.framesOut - before.framesOut).toBe(450);
    const latencies = records.flatMap((r) => r.frames.map((f) => f.receivedAt - f.timestamp));
    console.info(`[video] 150 frames × 3 viewers delivered; median latency ${median(latencies)} ms (local)`);

    // The publisher stops: viewers are told, then (the client has gone) closed with 4410.
    const ends = viewers.map((v) => closed(v.ws));
    pub.ws.close(1000);
    for (const end of await Promise.all(ends)) expect(end.code).toBe(4410);
    for (const r of records) expect(r.texts).toContainEqual({ type: 'ended' });
    await waitFor(async () => (await clientsOf('alice')).length === 0);
  });

  it('gives a late viewer the latest frame at once, and keeps viewers of a client that is not publishing yet', async () => {
    const pub = await publisher({ clientId: 'cam-late' });
    for (let i = 0; i < 5; i++) pub.ws.send(frameOf(100 + i, 512));
    await waitFor(async () => server.video.stats().framesIn > 0 && (await clientsOf()).some((c) => c.id === 'cam-late' && c.publishing));
    await new Promise((r) => setTimeout(r, 100));
    const late = await viewer('cam-late');
    const record = late;
    await waitFor(async () => record.frames.length === 1, 1000);
    expect(record.frames[0]!.index).toBe(104);
    pub.ws.send(frameOf(105, 512));
    await waitFor(async () => record.frames.length === 2, 1000);
    expect(record.frames.map((f) => f.index)).toEqual([104, 105]);
    pub.ws.close();
    await closed(late.ws);

    // A client connected through presence but not publishing: viewers wait for it.
    const presence = createTestClient(server.url, { 'x-colloquy-user': 'waiter' });
    const messages: Json[] = [];
    const sub = presence.clients.connect.subscribe({ clientId: 'cam-wait' }, { onData: (m) => messages.push(m) });
    await waitFor(async () => messages.length > 0);
    const waiting = await viewer('cam-wait');
    expect(waiting.first).toEqual({ type: 'hello', clientId: 'cam-wait', publishing: false });
    const waited = waiting;
    const pub2 = await publisher({ clientId: 'cam-wait', user: 'waiter' });
    pub2.ws.send(frameOf(7, 256));
    await waitFor(async () => waited.frames.length === 1, 1000);
    expect(waited.texts).toEqual([waiting.first, { type: 'publishing' }]);
    pub2.ws.close();
    await waitFor(async () => waited.texts.some((t) => t.type === 'ended'));
    // Still connected through presence: the viewer stays.
    expect(waiting.ws.readyState).toBe(waiting.ws.OPEN);
    sub.unsubscribe();
    expect((await closed(waiting.ws)).code).toBe(4410);
  });

  it('drops frames sent faster than MAX_VIDEO_FPS', async () => {
    const pub = await publisher({ clientId: 'cam-fast' });
    const v = await viewer('cam-fast');
    const record = v;
    const before = server.video.stats();
    for (let i = 0; i < 60; i++) pub.ws.send(frameOf(i, 256));
    await waitFor(async () => {
      const now = server.video.stats();
      return now.framesIn - before.framesIn + now.framesDropped.rate - before.framesDropped.rate === 60;
    });
    const after = server.video.stats();
    const accepted = after.framesIn - before.framesIn;
    expect(accepted).toBeLessThanOrEqual(10);
    expect(after.framesDropped.rate - before.framesDropped.rate).toBe(60 - accepted);
    // A burst arrives in one go: the viewer gets the first and the latest accepted frame, in order.
    await waitFor(async () => record.frames.at(-1)?.seq === accepted);
    expectInOrderWithoutDuplicates(record.frames);
    pub.ws.close();
    await closed(v.ws);
  });

  it('refuses an oversized frame (1009) and a message that is not a frame (1007)', async () => {
    const big = await publisher({ clientId: 'cam-big' });
    const before = server.video.stats();
    big.ws.send(frameOf(1, 300 * 1024));
    expect((await closed(big.ws)).code).toBe(1009);
    expect(server.video.stats().framesRefused.oversized - before.framesRefused.oversized).toBe(1);
    expect(server.video.stats().framesIn).toBe(before.framesIn);
    await waitFor(async () => !(await clientsOf()).some((c) => c.id === 'cam-big'));

    // A frame just under the limit passes.
    const ok = await publisher({ clientId: 'cam-big' });
    ok.ws.send(frameOf(2, 256 * 1024));
    await waitFor(async () => server.video.stats().framesIn === before.framesIn + 1);
    ok.ws.close();

    const bad = await publisher({ clientId: 'cam-bad' });
    bad.ws.send(Buffer.from('definitely not a video frame, just bytes'));
    const end = await closed(bad.ws);
    expect(end.code).toBe(1007);
    expect(server.video.stats().framesRefused.invalid - before.framesRefused.invalid).toBe(1);

    // A text message is not a frame either (issue 11: it used to be ignored).
    const chatty = await publisher({ clientId: 'cam-text' });
    chatty.ws.send(JSON.stringify({ type: 'hello' }));
    const textEnd = await closed(chatty.ws);
    expect(textEnd).toEqual({ code: 1007, reason: 'a publisher sends binary frames only' });
    expect(server.video.stats().framesRefused.invalid - before.framesRefused.invalid).toBe(2);
    await waitFor(async () => !(await clientsOf()).some((c) => c.id === 'cam-text'));
  });

  it('answers bad upgrade requests with JSON errors', async () => {
    expect(await refusal(openSocket(wsUrl(server.url, {})))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/role/) } });
    expect(await refusal(viewer('nobody-here'))).toMatchObject({ status: 404, body: { message: expect.any(String), error: 'no such client' } });
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'watch' })))).toMatchObject({ status: 400 });
    expect(await refusal(viewer('bad id with spaces'))).toMatchObject({ status: 400 });
    expect(await refusal(openSocket(`${server.url.replace('http', 'ws')}/elsewhere`))).toMatchObject({ status: 404 });
  });

  it('exposes video and client metrics', async () => {
    const pub = await publisher({ clientId: 'cam-metrics' });
    const v = await viewer('cam-metrics');
    pub.ws.send(frameOf(1, 128));
    await waitFor(async () => server.video.stats().publishers === 1 && server.video.stats().viewers === 1);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(metricValue(text, 'colloquy_video_publishers')).toBe(1);
    expect(metricValue(text, 'colloquy_video_viewers')).toBe(1);
    expect(metricValue(text, 'colloquy_connected_clients')).toBe(1);
    expect(metricValue(text, 'colloquy_video_frames_in_total')).toBe(server.video.stats().framesIn);
    expect(text).toMatch(/^colloquy_video_frames_out_total \d+/m);
    expect(text).toMatch(/^colloquy_video_frames_dropped_total\{reason="slow_viewer"\} \d+/m);
    expect(text).toMatch(/^colloquy_video_frames_refused_total\{reason="oversized"\} [1-9]/m);
    pub.ws.close();
    await closed(v.ws);
  });
});

describe('live video with API keys', () => {
  const KEYS = { alice: 'alice-video-key-000001', bob: 'bob-video-key-0000002', ops: 'ops-video-admin-key-03' };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ API_KEYS: `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.ops}:ops:admin` });
  });
  afterAll(() => server?.dispose());
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it('refuses unauthenticated publishers and viewers, and viewers of another user', async () => {
    const noKey = await refusal(openSocket(wsUrl(server.url, { role: 'publish' })));
    expect(noKey).toMatchObject({ status: 401, body: { message: expect.any(String), error: 'missing or invalid API key' } });
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'publish' }), bearer('not-a-key')))).toMatchObject({ status: 401 });
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'publish', token: 'not-a-key' })))).toMatchObject({ status: 401 });
    // A user key acts only for its own user.
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'publish', user: 'bob' }), bearer(KEYS.alice)))).toMatchObject({ status: 403 });

    // The key as a header (Node) or as `token` (browsers).
    const pub = await openSocket(wsUrl(server.url, { role: 'publish', clientId: 'alice-cam' }), bearer(KEYS.alice));
    expect(pub.first).toMatchObject({ type: 'ready', clientId: 'alice-cam' });
    pub.ws.send(frameOf(1, 64));

    const own = await openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam', token: KEYS.alice }));
    const admin = await openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam' }), bearer(KEYS.ops));
    expect(own.first).toMatchObject({ type: 'hello', publishing: true });
    expect(admin.first).toMatchObject({ type: 'hello', publishing: true });
    // Bob is told nothing exists.
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam' }), bearer(KEYS.bob)))).toMatchObject({
      status: 404,
    });
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam' })))).toMatchObject({ status: 401 });
    // Client ids are per user: Bob publishing under the same id is a client of his own, which
    // takes nothing from Alice (it used to be a 409 telling him the id was taken).
    const bobs = await openSocket(wsUrl(server.url, { role: 'publish', clientId: 'alice-cam' }), bearer(KEYS.bob));
    expect(bobs.first).toMatchObject({ type: 'ready', clientId: 'alice-cam' });
    expect(own.ws.readyState).toBe(own.ws.OPEN);

    const listed = await requestJson(`${server.url}/get_client_list`, { headers: bearer(KEYS.ops) });
    expect(listed.body).toMatchObject({ count: 2 });
    expect((listed.body as Json).clients.map((c: Json) => [c.id, c.user, c.publishing]).sort()).toEqual([
      ['alice-cam', 'alice', true],
      ['alice-cam', 'bob', true],
    ]);
    // An admin naming no user cannot tell which is meant: 409; naming the user, it watches.
    expect(await refusal(openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam' }), bearer(KEYS.ops)))).toMatchObject({
      status: 409,
      body: { error: 'client id alice-cam is used by several users; name the user (user=)' },
    });
    const adminOfBob = await openSocket(wsUrl(server.url, { role: 'watch', clientId: 'alice-cam', user: 'bob' }), bearer(KEYS.ops));
    expect(adminOfBob.first).toMatchObject({ type: 'hello', publishing: true });
    const ends = [closed(own.ws), closed(admin.ws), closed(adminOfBob.ws)];
    pub.ws.close();
    bobs.ws.close();
    await Promise.all(ends);
  });
});

describe('live-video upgrades count against the rate limit and the stream cap (issue 11)', () => {
  const KEY = 'ws-limits-key-00000001';
  let limited: TestServer;
  let capped: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ API_KEYS: `${KEY}:alice:user`, RATE_LIMIT_PER_MINUTE: '3' });
    capped = await startTestServer({ MAX_STREAMS_PER_IP: '2', RATE_LIMIT_PER_MINUTE: '0' });
  });
  afterAll(async () => {
    await limited?.dispose();
    await capped?.dispose();
  });

  it('wrong tokens are rate-limited per address: 401, 401, 401, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let last: unknown;
    for (let i = 0; i < 4; i++) {
      last = await refusal(openSocket(wsUrl(limited.url, { role: 'publish', token: `guess-${i}-0000000000` })));
      statuses.push((last as { status: number }).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(last).toMatchObject({ body: { message: '请求过于频繁' } });
    // HTTP requests share the address's budget.
    expect((await fetch(`${limited.url}/get_conversation_list`)).status).toBe(429);
  });

  it('publishers and viewers hold open-stream slots: the third socket from one address is a 429', async () => {
    const pub = await openSocket(wsUrl(capped.url, { role: 'publish', clientId: 'cap-cam', user: 'u' }));
    const v1 = await openSocket(wsUrl(capped.url, { role: 'watch', clientId: 'cap-cam', user: 'u' }));
    expect(await refusal(openSocket(wsUrl(capped.url, { role: 'watch', clientId: 'cap-cam', user: 'u' })))).toMatchObject({
      status: 429,
      body: { error: 'at most 2 open streams per client address; close one first' },
    });
    const ended = closed(v1.ws);
    v1.ws.close();
    await ended;
    const v2 = await waitFor(async () => openSocket(wsUrl(capped.url, { role: 'watch', clientId: 'cap-cam', user: 'u' })).catch(() => undefined));
    const ends = [closed(v2.ws), closed(pub.ws)];
    pub.ws.close();
    v2.ws.close();
    await Promise.all(ends);
  });
});

describe('a slow viewer (server in its own process)', () => {
  let dirs: TempServerDirs;
  let proc: ServerProcess;
  beforeAll(async () => {
    dirs = makeServerDirs('colloquy-video-');
    proc = await startServerProcess({ DATA_DIR: dirs.dataDir, UPLOAD_ROOTS: dirs.inbox, MAX_VIDEO_FRAME_BYTES: '2mb' });
  }, 30_000);
  afterAll(async () => {
    await proc?.stop();
    dirs?.remove();
  });

  const metrics = async () => (await fetch(`${proc.url}/metrics`)).text();
  const rss = async () => metricValue(await metrics(), 'process_resident_memory_bytes');

  it('gets frames dropped while the server’s memory stays bounded', async () => {
    const FRAME = 1024 * 1024;
    const FRAMES = 120; // 4 s at 30 fps: 120 MB through the server
    const noise = randomBytes(FRAME);
    const pub = await openSocket(wsUrl(proc.url, { role: 'publish', clientId: 'firehose' }));
    const fast = await openSocket(wsUrl(proc.url, { role: 'watch', clientId: 'firehose' }));
    const slow = await openSocket(wsUrl(proc.url, { role: 'watch', clientId: 'firehose' }));
    const fastRecord = fast;
    const slowRecord = slow;
    // The slow viewer stops reading: its TCP window fills, then the server's socket buffer.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const baseline = await rss();
    let peak = baseline;
    // One sample at a time: on a loaded machine, overlapping /metrics requests would pile up and
    // be the very memory growth measured.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rss());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let sent: number;
    try {
      sent = await publishAt(pub.ws, 30, FRAMES, (i) => frameOf(i, FRAME, noise));
      // Then one small live frame, a pause later (frames closer than 1/MAX_VIDEO_FPS are dropped):
      // a viewer that reads gets it, however many frames a loaded machine made it drop before.
      await new Promise((r) => setTimeout(r, 100));
      pub.ws.send(frameOf(FRAMES, 1024, noise));
      await waitFor(() => fastRecord.frames.at(-1)?.index === FRAMES, 10_000);
    } finally {
      sampling = false;
      await sampler;
    }
    peak = Math.max(peak, await rss());

    const text = await metrics();
    const framesIn = metricValue(text, 'colloquy_video_frames_in_total');
    const out = metricValue(text, 'colloquy_video_frames_out_total');
    const dropped = metricValue(text, 'colloquy_video_frames_dropped_total', '{reason="slow_viewer"}');
    const slowReceivedWhilePaused = slowRecord.frames.length;

    // The slow viewer resumes: it gets what was already on its way (kernel buffers, the frame
    // being written, one pending), then live frames again — never the backlog.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor(async () => slowRecord.frames.at(-1)?.index === FRAMES, 5000);
    // Everything before the live frame: what was already on its way when it paused.
    const slowAfterResume = slowRecord.frames.filter((f) => f.index < FRAMES).length;

    const growthMb = (peak - baseline) / 2 ** 20;
    console.info(
      `[video] slow viewer: ${sent} frames of 1 MB published, ${framesIn} accepted, fast viewer got ${fastRecord.frames.length}, ` +
        `slow viewer got ${slowAfterResume} (${slowReceivedWhilePaused} while paused), dropped for it ${dropped}, frames out ${out}; ` +
        `server RSS ${(baseline / 2 ** 20).toFixed(0)} MB → peak ${(peak / 2 ** 20).toFixed(0)} MB (+${growthMb.toFixed(0)} MB)`,
    );
    expect(sent).toBe(FRAMES);
    // The reading viewer got far more than what fits in the paused one's buffers.
    expect(fastRecord.frames.length).toBeGreaterThan(2 * slowAfterResume);
    expectInOrderWithoutDuplicates(fastRecord.frames);
    expectInOrderWithoutDuplicates(slowRecord.frames);
    expect(dropped).toBeGreaterThan(FRAMES / 2);
    // Only what fits in the sockets' buffers reached the slow viewer.
    expect(slowAfterResume).toBeLessThan(FRAMES / 3);
    // Had the server queued the slow viewer's frames, it would have grown by ~100 MB.
    expect(growthMb).toBeLessThan(60);
    for (const s of [pub.ws, fast.ws, slow.ws] as WebSocket[]) s.terminate();
  }, 30_000);
});
