/**
 * The SDK in a real browser: Chromium loads a browser bundle of the SDK (esbuild, browser
 * platform: no Node built-ins) from a page served next to a real server (same origin, through
 * a transparent reverse proxy, as a web app's dev server or the server itself would serve it).
 * The page streams an answer into the DOM, stops another one, and is listed as a client.
 *
 * Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium). Without it the test is skipped
 * with a warning — except in CI (CI=true), where a missing browser is a failure.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '@colloquy/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../scripts/browser-bundle.mjs';
import { createClient } from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const HAVE_CHROMIUM = chromiumAvailable('sdk: browser bundle in Chromium');
const KEY = 'sdk-browser-key-000001';


const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Colloquy SDK in a browser</title></head>
<body>
  <p id="answer"></p>
  <p id="stopped"></p>
  <script type="module">
    import * as sdk from './sdk.js';
    window.sdk = sdk;
    document.body.dataset.ready = 'yes';
  </script>
</body></html>`;

/** Serves the page and the bundle under /sdk-page/, and passes everything else to the server, unchanged. */
async function servePage(target: string, bundle: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    if (req.url === '/sdk-page/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (req.url === '/sdk-page/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface PageResult {
  shown: string;
  /** How many times the answer element changed while streaming. */
  updates: number;
  final: { answer: string; status: string; messageId: string; conversationId: string; createdAt: unknown; citations: { fileName: string }[] };
}

describe.runIf(HAVE_CHROMIUM)('SDK in Chromium', () => {
  let fx: SdkFixture;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    fx = await startSdkFixture({ API_KEYS: `${KEY}:browser-user:user`, LOCAL_AGENT_DELTA_DELAY_MS: '20' });
    site = await servePage(fx.server.url, await bundleForBrowser());
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
    });
    page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    const response = await page.goto(`${site.url}/sdk-page/`);
    expect(response?.status()).toBe(200);
    await page.waitForFunction(() => document.body.dataset.ready === 'yes');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await fx?.dispose();
  });

  it('streams an answer into the page, equal to final() and the stored message', async () => {
    const result = await page.evaluate(async (apiKey): Promise<PageResult> => {
      const { createClient: create } = (window as unknown as { sdk: typeof import('../src/index.ts') }).sdk;
      const client = create({ baseUrl: location.origin, apiKey, name: 'browser page' });
      (window as unknown as { client: unknown }).client = client;
      await client.clients.ready();
      await client.files.upload(new Blob(['The orbital rocket engine burns liquid hydrogen with liquid oxygen. '.repeat(20)]), 'rocket.txt');
      const el = document.getElementById('answer')!;
      let updates = 0;
      new MutationObserver(() => (updates += 1)).observe(el, { childList: true, characterData: true, subtree: true });
      const stream = client.stream({ query: 'What does the orbital rocket engine burn?', files: ['rocket.txt'], newConversation: true });
      for await (const ev of stream) if (ev.event === 'message') el.textContent += ev.answer;
      const final = await stream.final();
      await new Promise((r) => setTimeout(r, 0));
      return { shown: el.textContent ?? '', updates, final };
    }, KEY);

    expect(result.final.status).toBe('complete');
    expect(result.shown).toBe(result.final.answer);
    expect(result.shown).toContain('liquid hydrogen');
    // Streamed: the page changed delta by delta, not once.
    expect(result.updates).toBeGreaterThan(3);
    expect(typeof result.final.createdAt).toBe('number');
    expect(result.final.citations[0]?.fileName).toBe('rocket.txt');

    const node = createClient({ baseUrl: fx.server.url, apiKey: KEY });
    const stored = await node.messages.list(result.final.conversationId);
    expect(stored.items.at(-1)).toMatchObject({ id: result.final.messageId, status: 'complete', content: result.shown });
    // The page is listed as a connected client (presence from the browser, with the key in a header).
    const { clients } = await node.clients.list();
    expect(clients).toEqual([expect.objectContaining({ name: 'browser page', kind: 'sdk', userId: 'browser-user', userAgent: expect.stringContaining('Chrome') })]);
  });

  it('stops an answer from the page: the partial text shown is what the server keeps', async () => {
    const result = await page.evaluate(async () => {
      const client = (window as unknown as { client: ReturnType<typeof import('../src/index.ts').createClient> }).client;
      const el = document.getElementById('stopped')!;
      const stream = client.stream({ query: 'Tell me everything about the orbital rocket engine, at length', files: ['rocket.txt'] });
      let deltas = 0;
      let stopping: Promise<string> | undefined;
      for await (const ev of stream) {
        if (ev.event !== 'message') continue;
        el.textContent += ev.answer;
        deltas += 1;
        if (deltas === 3) stopping = stream.stop();
      }
      const final = await stream.final();
      return { shown: el.textContent ?? '', stopStatus: await stopping, status: final.status, answer: final.answer, messageId: final.messageId, conversationId: final.conversationId };
    });
    expect(result.stopStatus).toBe('stopped');
    expect(result.status).toBe('stopped');
    expect(result.shown).toBe(result.answer);
    expect(result.shown.length).toBeGreaterThan(0);
    const node = createClient({ baseUrl: fx.server.url, apiKey: KEY });
    const stored = await node.messages.list(result.conversationId);
    expect(stored.items.at(-1)).toMatchObject({ id: result.messageId, status: 'stopped', content: result.shown });
  });

  it('typed errors reach the page, with the server’s reason and request id', async () => {
    const result = await page.evaluate(async () => {
      const { createClient: create, UnauthorizedError, NotFoundError } = (window as unknown as { sdk: typeof import('../src/index.ts') }).sdk;
      const client = (window as unknown as { client: ReturnType<typeof create> }).client;
      const missing = await client.resume('no-such-message').final().catch((e: unknown) => e);
      const refused = await create({ baseUrl: location.origin, apiKey: 'wrong-key-000000000000' }).agents.list().catch((e: unknown) => e);
      await client.close();
      return {
        missing: missing instanceof NotFoundError && typeof missing.requestId === 'string',
        refused: refused instanceof UnauthorizedError ? refused.message : String(refused),
      };
    });
    expect(result).toEqual({ missing: true, refused: 'missing or invalid API key' });
    // Only the deliberate 401 and 404 responses show up as console errors (Chromium logs failed requests).
    expect(problems.filter((p) => !/status of (401|404)/.test(p))).toEqual([]);
  });
});
