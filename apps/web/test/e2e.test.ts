/**
 * The web app end to end in Chromium (playwright-core driving CHROMIUM_PATH, default
 * /usr/bin/chromium) against one real server process with the local agent, shared by every
 * test here, as is the browser. Writes screenshots of each page at 1280 and 360 px to
 * apps/web/test-output/screenshots (gitignored) for review.
 *
 * Without Chromium the suite is skipped and listed at the end of the run — except under
 * CI=true, where a missing browser fails it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@colloquy/sdk';
import { CHROMIUM_ARGS, CHROMIUM_FAKE_MEDIA_ARGS, CHROMIUM_PATH, chromiumAvailable, makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from '@colloquy/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HAVE_CHROMIUM = chromiumAvailable('web: end-to-end in Chromium');

const SHOTS = fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));
const KEYS = {
  alice: 'alice-key-0123456789abcdef',
  carol: 'carol-key-0123456789abcdef',
  dave: 'dave-key-0123456789abcdef',
  erin: 'erin-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
};
const WHALES = Array.from(
  { length: 10 },
  (_, i) => `Note ${i + 1}: blue whales sing long low songs that travel across the ocean basin for hundreds of kilometres, pod ${i + 1}.`,
).join('\n\n');

describe.runIf(HAVE_CHROMIUM)('web app in Chromium', () => {
  let dirs: TempServerDirs;
  let server: ServerProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dirs = makeServerDirs('colloquy-web-e2e-');
    server = await startServerProcess({
      DATA_DIR: dirs.dataDir,
      UPLOAD_ROOTS: dirs.inbox,
      LOCAL_AGENT_DELTA_DELAY_MS: '40',
      FLUSH_INTERVAL_MS: '100',
      RATE_LIMIT_PER_MINUTE: '0',
      SHUTDOWN_GRACE_MS: '0',
      PRESENCE_TIMEOUT_MS: '4000',
      API_KEYS: `${KEYS.alice}:alice:user,${KEYS.carol}:carol:user,${KEYS.dave}:dave:user,${KEYS.erin}:erin:user,${KEYS.admin}:ops:admin`,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...CHROMIUM_FAKE_MEDIA_ARGS],
    });
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
    dirs?.remove();
  });

  /** A browser context (own storage), signed in with `key` when given. */
  async function newContext(options: { key?: string; locale?: string; width?: number; bypassCSP?: boolean } = {}): Promise<BrowserContext> {
    const context = await browser.newContext({
      locale: options.locale ?? 'en-US',
      viewport: { width: options.width ?? 1280, height: 800 },
      bypassCSP: options.bypassCSP ?? false,
    });
    contexts.push(context);
    if (options.key) {
      await context.addInitScript((apiKey) => {
        // (about:blank has no storage.)
        if (location.protocol === 'http:' && !localStorage.getItem('colloquy.session')) localStorage.setItem('colloquy.session', JSON.stringify({ apiKey }));
      }, options.key);
    }
    context.on('page', (page) => watchProblems(page));
    return context;
  }
  function watchProblems(page: Page) {
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  }

  const lastAnswer = (page: Page) => page.locator('article.answer').last();
  const lastStatus = (page: Page) => lastAnswer(page).getByTestId('answer-status');
  async function ask(page: Page, question: string) {
    const box = page.getByRole('textbox', { name: 'Question' });
    await box.fill(question);
    await box.press('Enter');
  }
  const sdkFor = (key: string) => createClient({ baseUrl: server.url, apiKey: key });

  it('signs in with an API key, shows who you are, and signs out', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').fill('wrong-key-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/API key|unauthori[sz]ed/i);
    await page.getByLabel('API key').fill(KEYS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('Signed in as aliceuser');
    expect(await page.evaluate(() => JSON.parse(localStorage.getItem('colloquy.session')!))).toEqual({ apiKey: KEYS.alice });
    // A reload keeps the session.
    await page.reload();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('Signed in as aliceuser');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('colloquy.session'))).toBeNull();
    await page.close();
  });

  it('an admin sees every user and switches to one', async () => {
    const context = await newContext({ key: KEYS.admin });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('Signed in as all usersadmin');
    await page.getByRole('button', { name: 'Act as user' }).click();
    await page.getByRole('combobox', { name: 'Act as user' }).fill('alice');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('Signed in as aliceadmin');
    await page.close();
  });

  it('uploads a dropped file with progress, asks about it: the streamed answer quotes it and cites it', async () => {
    const context = await newContext({ key: KEYS.alice });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('textbox', { name: 'Question' }).waitFor();
    // Every progress bar the page shows, as it changes.
    await page.evaluate(() => {
      const seen: { max: number; value: number }[] = [];
      (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
      new MutationObserver(() => {
        for (const p of document.querySelectorAll('progress')) seen.push({ max: p.max, value: p.value });
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value', 'max'] });
    });
    const BIG = 6 * 1024 * 1024;
    const dataTransfer = await page.evaluateHandle(
      ([text, big]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'whales.txt', { type: 'text/plain' }));
        dt.items.add(new File([new Uint8Array(big).fill(7)], 'big.bin', { type: 'application/octet-stream' }));
        return dt;
      },
      [WHALES, BIG] as const,
    );
    await page.dispatchEvent('[data-testid=file-drop]', 'drop', { dataTransfer });
    const attached = page.getByRole('list', { name: 'Attached to the next question' });
    await attached.getByText('whales.txt').waitFor();
    await attached.getByText('big.bin').waitFor();
    // The large one showed a progress bar that moved before it finished.
    const progress = await page.evaluate(() => (window as unknown as { progressSeen: { max: number; value: number }[] }).progressSeen);
    expect(progress.some((p) => p.max >= 6 * 1024 * 1024 && p.value > 0)).toBe(true);
    await attached.getByRole('button', { name: 'Remove: big.bin' }).click();

    await ask(page, 'How far do the songs of blue whales travel?');
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    // Streamed: text appears while the status still says streaming.
    await expect.poll(async () => ((await lastAnswer(page).locator('.markdown').textContent()) ?? '').length, { timeout: 10_000 }).toBeGreaterThan(10);
    expect(await lastStatus(page).textContent()).toBe('streaming');
    await expect.poll(() => lastStatus(page).textContent(), { timeout: 30_000 }).toBe('complete');
    const text = (await lastAnswer(page).locator('.markdown').textContent()) ?? '';
    expect(text).toContain('hundreds of kilometres');
    expect(await lastAnswer(page).textContent()).toMatch(/\d+ tokens/);

    // The numbered reference opens the cited passage and names the file.
    await lastAnswer(page).locator('button.cite').first().click();
    const source = lastAnswer(page).locator('details[data-n="1"]');
    expect(await source.getAttribute('open')).not.toBeNull();
    expect(await source.textContent()).toContain('whales.txt');
    expect(await source.locator('.passage').textContent()).toContain('blue whales sing');
    await source.getByRole('link', { name: /Open file/ }).click();
    await page.waitForURL(/\/files#file-/);
    await page.getByRole('cell', { name: 'whales.txt', exact: true }).waitFor();
    await page.close();
  }, 60_000);

  it('stops an answer midway: status stopped, the partial text kept (as stored)', async () => {
    const context = await newContext({ key: KEYS.alice });
    const page = await context.newPage();
    const sdk = sdkFor(KEYS.alice);
    const [file] = await sdk.files.list({ limit: 100 }).then((p) => p.items.filter((f) => f.name === 'whales.txt'));
    expect(file).toBeDefined();
    await page.goto(`${server.url}/files`);
    await page.getByRole('row', { name: /whales\.txt/ }).getByRole('button', { name: 'Attach' }).click();
    await page.getByRole('link', { name: 'Chat' }).click();
    await ask(page, 'blue whales songs ocean basin kilometres pod');
    await expect.poll(async () => ((await lastAnswer(page).locator('.markdown').textContent()) ?? '').length, { timeout: 10_000 }).toBeGreaterThan(20);
    // From the keyboard: the button moves down as the answer grows, and Playwright's click waits
    // for an element that stays put, which it may not do before the answer is complete.
    const stop = lastAnswer(page).getByRole('button', { name: /Stop/ });
    await stop.focus();
    await stop.press('Enter');
    await expect.poll(() => lastStatus(page).textContent(), { timeout: 10_000 }).toBe('stopped');
    const partial = (await lastAnswer(page).locator('.markdown').textContent()) ?? '';
    expect(partial.length).toBeGreaterThan(20);
    const conversationId = decodeURIComponent(new URL(page.url()).pathname.slice(3));
    const messages = (await sdk.messages.list(conversationId)).items;
    const stopped = messages.find((m) => m.role === 'assistant')!;
    expect(stopped.status).toBe('stopped');
    expect(stopped.content.length).toBeGreaterThan(0);
    expect(stopped.content.length).toBeLessThan(WHALES.length);
    // Retry asks again.
    await lastAnswer(page).getByRole('button', { name: /Retry/ }).click();
    await expect.poll(() => lastStatus(page).textContent(), { timeout: 30_000 }).toBe('complete');
    expect(await page.locator('article.answer').count()).toBe(2);
    await sdk.close();
    await page.close();
  }, 60_000);

  it('a reload mid-answer picks the stream back up: the answer completes exactly once', async () => {
    const context = await newContext({ key: KEYS.alice });
    const page = await context.newPage();
    await page.goto(`${server.url}/files`);
    await page.getByRole('row', { name: /whales\.txt/ }).getByRole('button', { name: 'Attach' }).click();
    await page.getByRole('link', { name: 'Chat' }).click();
    await ask(page, 'What do the blue whales of pod 3 sing across the ocean basin?');
    await page.waitForURL(/\/c\//);
    await expect.poll(async () => ((await lastAnswer(page).locator('.markdown').textContent()) ?? '').length, { timeout: 10_000 }).toBeGreaterThan(20);
    const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem('colloquy.pendingTurns') ?? '[]') as { messageId: string; lastEventId: string }[]);
    expect(saved).toHaveLength(1);
    expect(Number(saved[0]!.lastEventId)).toBeGreaterThan(0);
    await page.reload();
    await expect.poll(() => lastStatus(page).textContent(), { timeout: 30_000 }).toBe('complete');
    const conversationId = decodeURIComponent(new URL(page.url()).pathname.slice(3));
    const sdk = sdkFor(KEYS.alice);
    const stored = (await sdk.messages.list(conversationId)).items.filter((m) => m.role === 'assistant');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe('complete');
    expect(stored[0]!.id).toBe(saved[0]!.messageId);
    // Shown once, equal to the stored text: nothing lost, nothing doubled.
    expect(await page.locator('article.answer').count()).toBe(1);
    const shown = await lastAnswer(page).locator('.markdown').innerText();
    const normal = (s: string) => s.replace(/\s+/g, ' ').replace(/^> /gm, '').trim();
    const words = (s: string) => normal(s).match(/\w+/g)!.join(' ');
    expect(words(shown)).toBe(words(stored[0]!.content.replace(/^> /gm, '')));
    expect(await page.evaluate(() => sessionStorage.getItem('colloquy.pendingTurns'))).toBeNull();
    await sdk.close();
    await page.close();
  }, 60_000);

  it('renames and deletes a conversation from the sidebar', async () => {
    const sdk = sdkFor(KEYS.erin);
    await sdk.converse({ conversationId: 'erin-first', query: 'hello there' });
    const context = await newContext({ key: KEYS.erin });
    const page = await context.newPage();
    await page.goto(`${server.url}/c/erin-first`);
    const sidebar = page.getByRole('complementary', { name: 'Conversations' });
    await sidebar.getByRole('link', { name: 'hello there' }).waitFor();
    await sidebar.getByRole('button', { name: 'Rename: hello there' }).click();
    await sidebar.getByRole('textbox', { name: 'New name' }).fill('Greetings');
    await sidebar.getByRole('button', { name: 'Save' }).click();
    await sidebar.getByRole('link', { name: 'Greetings' }).waitFor();
    expect((await sdk.conversations.get('erin-first')).name).toBe('Greetings');
    await page.getByRole('heading', { name: 'Greetings' }).waitFor();

    await sidebar.getByRole('button', { name: 'Delete: Greetings' }).click();
    // Asks first; Cancel keeps it.
    await sidebar.getByRole('button', { name: 'Cancel' }).click();
    await sidebar.getByRole('button', { name: 'Delete: Greetings' }).click();
    await sidebar.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL(`${server.url}/`);
    await sidebar.getByText('No conversations yet.').waitFor();
    await expect(sdk.conversations.get('erin-first')).rejects.toMatchObject({ status: 404 });
    // Back button: the deleted conversation's URL still opens, empty.
    await sdk.close();
    await page.close();
  }, 30_000);

  it('uploads by server path, attaches from the Files page and deletes', async () => {
    writeFileSync(join(dirs.inbox, 'tides.md'), 'Spring tides come twice a month, at new and full moon.');
    const context = await newContext({ key: KEYS.erin });
    const page = await context.newPage();
    await page.goto(`${server.url}/files`);
    await page.getByRole('textbox', { name: /one per line/ }).fill('tides.md');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const row = page.getByRole('row', { name: /tides\.md/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/text\/markdown/);
    await row.getByRole('button', { name: 'Attach' }).click();
    expect(await row.getByRole('button', { name: /Attached/ }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('link', { name: 'Chat' }).click();
    await ask(page, 'When do spring tides come?');
    await expect.poll(() => lastStatus(page).textContent(), { timeout: 30_000 }).toBe('complete');
    expect(await lastAnswer(page).textContent()).toContain('new and full moon');
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('button', { name: 'Delete: tides.md' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await sdkFor(KEYS.erin).files.list()).items.map((f) => f.name)).not.toContain('tides.md');
    await page.close();
  }, 40_000);

  it('the clients page counts the open tabs, and drops when one closes', async () => {
    const context = await newContext({ key: KEYS.carol });
    const first = await context.newPage();
    await first.goto(`${server.url}/clients`);
    const count = () => first.getByTestId('client-count').getAttribute('data-count');
    await expect.poll(count, { timeout: 10_000 }).toBe('1');
    const second = await context.newPage();
    await second.goto(`${server.url}/agents`);
    await expect.poll(count, { timeout: 10_000 }).toBe('2');
    const third = await context.newPage();
    await third.goto(`${server.url}/files`);
    await expect.poll(count, { timeout: 10_000 }).toBe('3');
    expect(await first.getByRole('row').count()).toBe(4);
    expect(await first.getByRole('row').filter({ hasText: 'web' }).first().textContent()).toContain('carol');
    await third.close();
    await expect.poll(count, { timeout: 10_000 }).toBe('2');
    await second.close();
    await expect.poll(count, { timeout: 10_000 }).toBe('1');
    await first.close();
  }, 40_000);

  it('a fake camera published in one tab is drawn on another tab’s canvas', async () => {
    const context = await newContext({ key: KEYS.dave });
    const publisher = await context.newPage();
    await publisher.goto(`${server.url}/live`);
    await publisher.getByRole('button', { name: 'Publish my camera' }).click();
    await publisher.getByRole('button', { name: 'Stop publishing' }).waitFor();

    const viewer = await context.newPage();
    await viewer.goto(`${server.url}/live`);
    await viewer.getByTestId('publishers').getByRole('link').first().click();
    await viewer.waitForURL(/\/live\/[^/]+$/);
    await viewer.waitForFunction(() => Number((document.querySelector('[data-testid=live-canvas]') as HTMLCanvasElement | null)?.dataset.frames ?? 0) > 5, undefined, {
      timeout: 20_000,
    });
    // Chromium's fake camera: a coloured test card. Read pixels back: drawn, not blank.
    const pixels = await viewer.evaluate(() => {
      const canvas = document.querySelector('[data-testid=live-canvas]') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<string>();
      let lit = 0;
      for (let i = 0; i < data.length; i += 4 * 97) {
        colours.add(`${data[i]! >> 4},${data[i + 1]! >> 4},${data[i + 2]! >> 4}`);
        if (data[i]! + data[i + 1]! + data[i + 2]! > 60) lit += 1;
      }
      return { width: canvas.width, height: canvas.height, colours: colours.size, lit };
    });
    expect(pixels.width).toBe(320);
    expect(pixels.height).toBe(240);
    expect(pixels.lit).toBeGreaterThan(50);
    expect(pixels.colours).toBeGreaterThan(3);
    expect(Number(await viewer.locator('#fps').textContent())).toBeGreaterThan(0);
    expect(await viewer.locator('#latency').textContent()).toMatch(/^\d+ ms$/);
    await publisher.getByRole('button', { name: 'Stop publishing' }).click();
    await expect.poll(() => viewer.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/ended|waiting for frames/);
    await publisher.close();
    await viewer.close();
  }, 60_000);

  it('speaks Chinese to a zh-CN browser, and switches language', async () => {
    const context = await newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Colloquy · 登录' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await page.getByLabel('API 密钥').fill(KEYS.alice);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('link', { name: '对话', exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('当前身份 alice用户');
    await page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await page.getByRole('link', { name: 'Chat' }).waitFor();
    await page.close();
  });

  it('every page passes an axe-core scan (no serious or critical violations) and is photographed at 1280 and 360 px', async () => {
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const sdk = sdkFor(KEYS.alice);
    const [conversation] = (await sdk.conversations.list({ limit: 1 })).items;
    await sdk.close();
    const pages: [string, string, string | undefined][] = [
      ['signin', '/', undefined],
      ['chat-new', '/', KEYS.alice],
      ['chat', `/c/${encodeURIComponent(conversation!.id)}`, KEYS.alice],
      ['files', '/files', KEYS.alice],
      ['agents', '/agents', KEYS.alice],
      ['clients', '/clients', KEYS.alice],
      ['live', '/live', KEYS.alice],
    ];
    const report: string[] = [];
    for (const [width, theme] of [[1280, 'light'], [360, 'light'], [1280, 'dark']] as const) {
      {
        // Axe is injected as a script: this context lets it past the page's CSP.
        const context = await newContext({ key: undefined, width, bypassCSP: true });
        for (const [name, path, key] of pages) {
          const page = await context.newPage();
          await page.addInitScript(
            ([k, th]) => {
              if (location.protocol !== 'http:') return;
              if (k) localStorage.setItem('colloquy.session', JSON.stringify({ apiKey: k }));
              else localStorage.removeItem('colloquy.session');
              localStorage.setItem('colloquy.theme', th);
            },
            [key ?? '', theme] as const,
          );
          await page.goto(`${server.url}${path}`);
          await page.locator(key ? '#main h1' : 'h1').first().waitFor();
          // (Never "networkidle": the presence and watch streams stay open.)
          await page.waitForTimeout(300);
          await page.screenshot({ path: join(SHOTS, `${name}-${width}${theme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
          await page.evaluate(axeSource);
          // Every rule once per page (1280 px, light); at 360 px and in dark only the rules that
          // the layout or the palette change (the whole set takes seconds a page on 2 cores).
          const rules = width === 1280 && theme === 'light' ? undefined : ['color-contrast', 'scrollable-region-focusable', 'region'];
          const violations = await page.evaluate(async (only) => {
            const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
            const result = await axe.run(document, { resultTypes: ['violations'], ...(only ? { runOnly: { type: 'rule', values: only } } : {}) });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
          }, rules);
          const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
          for (const v of serious) report.push(`${name} @${width} ${theme}: ${v.id} (${v.impact}) ${v.targets.join(', ')}`);
          // Nothing wider than the screen (usable at 360 px).
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          if (overflow > 0) report.push(`${name} @${width} ${theme}: ${overflow} px wider than the viewport`);
          await page.close();
        }
        await context.close();
      }
    }
    expect(report).toEqual([]);
  }, 180_000);

  it('no page threw', () => {
    expect(problems).toEqual([]);
  });
});
