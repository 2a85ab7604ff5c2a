/**
 * Web pages cannot reach the server (issue 11, item 6). A page on another site can make its own
 * name resolve to 127.0.0.1 (DNS rebinding) or send requests that need no CORS preflight
 * (a multipart form POST) and open WebSockets (not covered by CORS at all). So requests must
 * name an allowed host (ALLOWED_HOSTS) and, when a browser says where they come from (Origin),
 * come from the server's own origin or CORS_ORIGINS. Clients that are not browsers send no
 * Origin and are not affected; the console and the SDK keep working (see also live-page and the
 * SDK's tests).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { countBlobs, dataDirOf, expectErrorBody, storedFiles, type Json } from './support/http-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';
import { closed, openSocket, UpgradeRefused, wsUrl } from './support/video-helpers.ts';

const EVIL = 'https://attacker.example.com';

/** An HTTP request with full control of Host (fetch does not allow setting it). */
function send(
  url: string,
  init: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Json }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, method: init.method ?? 'GET', path: init.path, headers: init.headers ?? {} },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let body: Json = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const multipart = (name: string, content: string) => ({
  body: `--b\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--b--\r\n`,
  type: 'multipart/form-data; boundary=b',
});

/** Opens a WebSocket with explicit headers; resolves to the HTTP status the upgrade was refused with, or 101. */
async function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  try {
    const s = await openSocket(url, headers);
    s.ws.close();
    await closed(s.ws);
    return 101;
  } catch (err) {
    if (err instanceof UpgradeRefused) return err.status;
    throw err;
  }
}

describe('open mode with the defaults', () => {
  let server: TestServer;
  let port: string;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
    port = new URL(server.url).port;
  });
  afterAll(() => server?.dispose());

  it.each([
    ['GET /get_conversation_list', 'GET', '/get_conversation_list'],
    ['GET /healthz', 'GET', '/healthz'],
    ['GET / (the console)', 'GET', '/'],
    ['POST /converse', 'POST', '/converse'],
  ])('refuses %s naming a foreign Host (DNS rebinding) with 421', async (_name, method, path) => {
    const res = await send(server.url, {
      method,
      path,
      headers: { host: `attacker.example.com:${port}`, 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ query: 'read my conversations', user: 'victim' }) : undefined,
    });
    expect(res.status).toBe(421);
    expect(res.body).toEqual({ message: '主机名不被允许', error: 'this server does not answer to that host name (see ALLOWED_HOSTS)' });
    expect(res.headers.connection).toBe('close');
  });

  // An address cannot come from a rebinding page (rebinding needs a name): any is answered.
  it.each([`127.0.0.1:${'PORT'}`, 'localhost:PORT', 'LOCALHOST:PORT', '[::1]:PORT', 'localhost', '127.0.0.1', '10.20.30.40:PORT', '[fd00::7]:PORT'])('answers Host %s', async (host) => {
    const res = await send(server.url, { path: '/healthz', headers: { host: host.replace('PORT', port) } });
    expect(res.status).toBe(200);
  });

  it('refuses state-changing requests from a foreign web origin with 403 and changes nothing', async () => {
    const before = { files: (await storedFiles(server.url)).length, blobs: countBlobs(dataDirOf(server)) };
    const form = multipart('planted.txt', 'planted by a web page');
    // A form POST needs no preflight: only the Origin check stops it.
    const upload = await requestJson(`${server.url}/files`, { rawBody: form.body, headers: { 'content-type': form.type, origin: EVIL } });
    expectErrorBody(upload, 403, '来源不被允许');
    const converse = await requestJson(`${server.url}/converse`, { body: { query: 'hi', user: 'victim' }, headers: { origin: EVIL } });
    expectErrorBody(converse, 403, '来源不被允许');
    const trpc = await requestJson(`${server.url}/trpc/chat.send`, { body: { query: 'hi', user: 'victim' }, headers: { origin: EVIL } });
    expectErrorBody(trpc, 403, '来源不被允许');
    const del = await requestJson(`${server.url}/delete_conv`, { method: 'DELETE', body: { conversation_id: 'x' }, headers: { origin: 'null' } });
    expectErrorBody(del, 403, '来源不被允许');
    // A subscription a page would open with EventSource.
    const sse = await requestJson(`${server.url}/trpc/clients.connect?input=${encodeURIComponent('{"clientId":"planted"}')}`, {
      headers: { origin: EVIL, accept: 'text/event-stream' },
    });
    expectErrorBody(sse, 403, '来源不被允许');
    expect((await storedFiles(server.url)).length).toBe(before.files);
    expect(countBlobs(dataDirOf(server))).toBe(before.blobs);
    expect((await requestJson(`${server.url}/get_conversation_list?user=victim`)).body).toMatchObject({ data: [] });
    expect(((await requestJson(`${server.url}/get_client_list`)).body as Json).count).toBe(0);
  });

  it('serves the same requests from its own origin, and from clients that send no Origin', async () => {
    const form = multipart('own.txt', 'uploaded from the console');
    const own = await requestJson(`${server.url}/files`, { rawBody: form.body, headers: { 'content-type': form.type, origin: server.url } });
    expect(own.status, own.text).toBe(200);
    const viaLocalhost = await send(server.url, {
      method: 'POST',
      path: '/converse',
      headers: { host: `localhost:${port}`, origin: `http://localhost:${port}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hello', user: 'console-user' }),
    });
    expect(viaLocalhost.status).toBe(200);
    const noOrigin = await requestJson(`${server.url}/converse`, { body: { query: 'hello', user: 'script-user' } });
    expect(noOrigin.status).toBe(200);
  });

  it('refuses a WebSocket from a foreign origin (403) or for a foreign Host (421); its own origin and Node clients connect', async () => {
    const url = wsUrl(server.url, { role: 'publish', clientId: 'cam-1', user: 'victim' });
    expect(await upgradeStatus(url, { origin: EVIL })).toBe(403);
    expect(await upgradeStatus(url, { origin: 'null' })).toBe(403);
    expect(await upgradeStatus(url, { host: `attacker.example.com:${port}` })).toBe(421);
    expect(((await requestJson(`${server.url}/get_client_list`)).body as Json).count).toBe(0);
    expect(await upgradeStatus(url, { origin: server.url })).toBe(101);
    expect(await upgradeStatus(url, {})).toBe(101);
  });

  it('a foreign origin refused by the WebSocket gets the JSON body', async () => {
    const ws = new WebSocket(wsUrl(server.url, { role: 'watch', clientId: 'cam-1' }), { headers: { origin: EVIL } });
    ws.on('error', () => undefined);
    const refusal = await new Promise<{ status: number; body: string }>((resolve) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    ws.terminate();
    expect(refusal.status).toBe(403);
    expect(JSON.parse(refusal.body)).toEqual({ message: '来源不被允许', error: 'requests from this web origin are not allowed (see CORS_ORIGINS)' });
  });
});

describe('CORS_ORIGINS and ALLOWED_HOSTS', () => {
  const APP = 'https://app.example.com';
  let server: TestServer;
  let port: string;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: APP, ALLOWED_HOSTS: 'colloquy.example.com', RATE_LIMIT_PER_MINUTE: '0' });
    port = new URL(server.url).port;
  });
  afterAll(() => server?.dispose());

  it('lets a listed origin call (CORS headers included) and open WebSockets; others stay refused', async () => {
    const ok = await requestJson(`${server.url}/converse`, { body: { query: 'hi', user: 'app-user' }, headers: { origin: APP } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expectErrorBody(await requestJson(`${server.url}/converse`, { body: { query: 'hi' }, headers: { origin: EVIL } }), 403, '来源不被允许');
    const url = wsUrl(server.url, { role: 'publish', clientId: 'cam-2' });
    expect(await upgradeStatus(url, { origin: APP })).toBe(101);
    expect(await upgradeStatus(url, { origin: EVIL })).toBe(403);
  });

  it('answers the listed host name besides the defaults', async () => {
    expect((await send(server.url, { path: '/healthz', headers: { host: `colloquy.example.com:${port}` } })).status).toBe(200);
    expect((await send(server.url, { path: '/healthz', headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await send(server.url, { path: '/healthz', headers: { host: `evil.example.com:${port}` } })).status).toBe(421);
    expect((await send(server.url, { path: '/healthz', headers: { host: `colloquy.example.com.evil.example:${port}` } })).status).toBe(421);
    expect((await send(server.url, { path: '/healthz', headers: { host: 'not a host' } })).status).toBe(421);
  });
});
