/**
 * The live page (/live/:clientId) in a real browser: Chromium opens it while a Node publisher
 * sends solid-colour JPEG frames; the test reads the canvas back and sees the colours change.
 *
 * Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium). Without it the test is skipped
 * with a warning — except in CI (CI=true), where a missing browser is a failure.
 */
import jpeg from 'jpeg-js';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/live/frame.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { closed, openSocket } from './support/video-helpers.ts';

const HAVE_CHROMIUM = chromiumAvailable('server: live page in Chromium');

type Rgb = [number, number, number];
const COLOURS: Record<string, Rgb> = { red: [230, 20, 20], green: [20, 200, 40], blue: [30, 40, 220] };

/** A solid-colour JPEG. */
function solidJpeg([r, g, b]: Rgb, width = 64, height = 48): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
    data[i + 3] = 255;
  }
  return jpeg.encode({ data, width, height }, 90).data;
}

const near = (a: number[], b: Rgb, tolerance = 24) => b.every((v, i) => Math.abs((a[i] ?? -999) - v) <= tolerance);

describe.runIf(HAVE_CHROMIUM)('live page in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('draws the publisher’s frames on a canvas as they change colour, with fps and latency', async () => {
    const pub = await openSocket(`${server.url.replace('http', 'ws')}/live/ws?role=publish&clientId=painter&user=artist`);
    const frames = Object.fromEntries(Object.entries(COLOURS).map(([name, rgb]) => [name, solidJpeg(rgb)]));
    let current = 'red';
    // 15 fps of the current colour, timestamped at send time.
    const sender = setInterval(() => {
      if (pub.ws.readyState === pub.ws.OPEN) pub.ws.send(encodeFrame('jpeg', frames[current]!, Date.now()));
    }, 1000 / 15);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    try {
      const response = await page.goto(`${server.url}/live/painter`);
      expect(response?.status()).toBe(200);

      const centrePixel = () =>
        page.evaluate(() => {
          const canvas = document.querySelector('canvas') as HTMLCanvasElement;
          const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
          return [...ctx.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data];
        });
      const seen: string[] = [];
      for (const name of ['red', 'green', 'blue', 'red']) {
        current = name;
        const target = COLOURS[name]!;
        const deadline = Date.now() + 10_000;
        let pixel = await centrePixel();
        while (!near(pixel, target) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          pixel = await centrePixel();
        }
        expect(pixel.slice(0, 3), `canvas should turn ${name}`).toSatisfy((p: number[]) => near(p, target));
        seen.push(name);
      }
      expect(seen).toEqual(['red', 'green', 'blue', 'red']);

      // A second at a steady rate, so the fps shown is the publisher's.
      await new Promise((r) => setTimeout(r, 1200));
      // The canvas takes the frames' size; the page shows fps and latency.
      expect(await page.evaluate(() => [document.querySelector('canvas')!.width, document.querySelector('canvas')!.height])).toEqual([64, 48]);
      const stats = await page.evaluate(() => ({
        fps: Number(document.getElementById('fps')!.textContent),
        latency: document.getElementById('latency')!.textContent,
        frames: Number(document.getElementById('frames')!.textContent),
        status: document.getElementById('status')!.textContent,
      }));
      expect(stats.fps).toBeGreaterThan(0);
      expect(stats.latency).toMatch(/^\d+ ms$/);
      expect(stats.frames).toBeGreaterThan(4);
      expect(stats.status).toBe('live');
      console.info(`[live-page] Chromium drew ${stats.frames} frames; ${stats.fps} fps, latency ${stats.latency}`);
      expect(problems).toEqual([]);
    } finally {
      clearInterval(sender);
      await page.close();
      pub.ws.close();
      await closed(pub.ws);
    }
  }, 60_000);

  it('with API keys, the page authenticates its WebSocket with the key in its URL fragment', async () => {
    const KEY = 'live-page-key-0000001';
    const keyed = await startTestServer({ API_KEYS: `${KEY}:viewer:user` });
    const page = await browser.newPage();
    try {
      const pub = await openSocket(`${keyed.url.replace('http', 'ws')}/live/ws?role=publish&clientId=keyed-cam&token=${KEY}`);
      const sender = setInterval(() => pub.ws.send(encodeFrame('jpeg', solidJpeg(COLOURS.green!), Date.now())), 100);
      try {
        await page.goto(`${keyed.url}/live/keyed-cam#token=${KEY}`);
        await page.waitForFunction(() => Number(document.querySelector('canvas')?.dataset.frames ?? 0) > 2, undefined, { timeout: 10_000 });
        // Without the key the page cannot connect.
        const locked = await browser.newPage();
        await locked.goto(`${keyed.url}/live/keyed-cam`);
        await new Promise((r) => setTimeout(r, 500));
        expect(await locked.evaluate(() => document.querySelector('canvas')?.dataset.frames ?? '0')).toBe('0');
        await locked.waitForFunction(() => document.getElementById('status')?.textContent === 'Error', undefined, { timeout: 10_000 });
        expect(await locked.evaluate(() => document.querySelector('figcaption')!.textContent)).toMatch(/Error/); // a browser is told nothing about a refused upgrade (1006)
        await locked.close();
      } finally {
        clearInterval(sender);
        pub.ws.close();
      }
    } finally {
      await page.close();
      await keyed.dispose();
    }
  }, 30_000);

  it('the web app keeps a presence connection while it is open (signed in)', async () => {
    const page = await browser.newPage();
    const listWeb = async () =>
      ((await (await fetch(`${server.url}/get_client_list`)).json()) as { clients: { kind: string; user_agent: string | null }[] }).clients.filter(
        (c) => c.kind === 'web',
      );
    try {
      await page.goto(`${server.url}/`);
      await page.getByLabel(/User name/).fill('watcher');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await waitFor(async () => (await listWeb()).length === 1, 10_000);
      expect((await listWeb())[0]).toMatchObject({ kind: 'web', user_agent: expect.stringMatching(/Chrome/) });
    } finally {
      await page.close();
    }
    await waitFor(async () => (await listWeb()).length === 0, 5000);
  }, 30_000);

  it('serves the page only for well-formed client ids', async () => {
    const res = await fetch(`${server.url}/live/${encodeURIComponent('bad id')}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const ok = await fetch(`${server.url}/live/some-client`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ok.text()).toContain('<div id="root">');
  });
});
