/**
 * Security configuration (issue 5): API_KEYS / ALLOW_OPEN / CORS_ORIGINS validation at start-up,
 * helmet's headers (without breaking the console or streaming) and CORS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createKeyRing, mergeApiKeys, parseApiKeys } from '../src/security/api-keys.ts';
import { securityWarnings } from '../src/security/index.ts';
import { isLoopbackHost } from '../src/security/network.ts';
import { createLogger } from '../src/observability/logging.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** The web app's build (turbo builds it before these tests: the server's devDependency). */
const webDist = fileURLToPath(new URL('../../web/dist/', import.meta.url));

describe('configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'colloquy-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: join(dir, 'data'), ...env });
  const errorOf = (env: Record<string, string>): string => {
    try {
      load(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('parses API_KEYS entries, ignoring blanks and spaces around them', () => {
    const config = load({ API_KEYS: ' k1-secret:alice:user , ,k2-secret:ops:admin,' });
    expect(config.apiKeys).toEqual([
      { key: 'k1-secret', user: 'alice', role: 'user' },
      { key: 'k2-secret', user: 'ops', role: 'admin' },
    ]);
  });

  it.each([
    ['a missing role', 'k1-secret:alice', /entry 1 is not key:user:role/],
    ['an unknown role', 'k1-secret:alice:root', /entry 1: the role must be "user", "admin" or "app"/],
    ['a user key inside an app key\'s namespace', 'k1-secret:acme:app,k2-secret:acme:bob:user', /entry 2 is not key:user:role/],
    ['an empty key', ':alice:user', /entry 1: the key is empty/],
    ['an empty user', 'k1-secret::user', /entry 1: the user is empty/],
    ['too many parts', 'k1:secret:alice:user', /entry 1 is not key:user:role/],
    ['a key with a space', 'k1 secret:alice:user', /printable ASCII without spaces/],
    ['a repeated key', 'k1-secret:alice:user,k1-secret:bob:user', /entry 2 \(user "bob"\) repeats the key of API_KEYS: entry 1 \(user "alice"\)/],
  ])('refuses %s with a message that names the entry, never the key', (_name, value, pattern) => {
    const message = errorOf({ API_KEYS: value });
    expect(message).toMatch(/API_KEYS/);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('k1-secret');
  });

  it('merges the config file\'s apiKeys with API_KEYS, refusing a key listed in both', () => {
    const file = join(dir, 'colloquy.json');
    writeFileSync(file, JSON.stringify({ apiKeys: [{ key: 'file-key-0001', user: 'carol', role: 'admin' }] }));
    expect(load({ COLLOQUY_CONFIG: file, API_KEYS: 'env-key-0001:dave:user' }).apiKeys.map((k) => k.user)).toEqual(['dave', 'carol']);
    const message = errorOf({ COLLOQUY_CONFIG: file, API_KEYS: 'file-key-0001:dave:user' });
    expect(message).toMatch(/COLLOQUY_CONFIG apiKeys: entry 1 \(user "carol"\) repeats the key of API_KEYS: entry 1/);
    expect(message).not.toContain('file-key-0001');
  });

  it('accepts app keys (old entries stay valid) and keeps user keys out of an app\'s namespace', () => {
    expect(load({ API_KEYS: 'k1-secret:alice:user,k2-secret:acme:app' }).apiKeys.map((k) => k.role)).toEqual(['user', 'app']);
    const file = join(dir, 'app-keys.json');
    writeFileSync(file, JSON.stringify({ apiKeys: [{ key: 'file-key-0002', user: 'acme:bob', role: 'user' }] }));
    const message = errorOf({ COLLOQUY_CONFIG: file, API_KEYS: 'env-key-0002:acme:app' });
    expect(message).toMatch(/the user key of user "acme:bob" names an end user of app "acme"/);
    expect(message).not.toContain('file-key-0002');
    writeFileSync(file, JSON.stringify({ apiKeys: [{ key: 'file-key-0003', user: 'ac:me', role: 'app' }] }));
    expect(errorOf({ COLLOQUY_CONFIG: file })).toMatch(/the user of an app key may not contain ":"/);
  });

  it('mergeApiKeys validates entries from any source', () => {
    expect(() => mergeApiKeys({ source: 'test', entries: [{ key: 'k', user: 'u', role: 'owner' }] })).toThrow(/test: entry 1/);
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('runs open only on a loopback HOST unless ALLOW_OPEN=1', () => {
    expect(errorOf({ HOST: '0.0.0.0' })).toMatch(/HOST: 0\.0\.0\.0 is not a loopback address and no API_KEYS are set/);
    expect(errorOf({ HOST: '192.168.1.10', ALLOW_OPEN: '0' })).toMatch(/ALLOW_OPEN=1/);
    expect(load({ HOST: '0.0.0.0', ALLOW_OPEN: '1' }).allowOpen).toBe(true);
    expect(load({ HOST: '0.0.0.0', API_KEYS: 'k-0123456789abcdef:alice:user' }).apiKeys).toHaveLength(1);
    expect(errorOf({ ALLOW_OPEN: 'maybe' })).toMatch(/ALLOW_OPEN/);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('parses CORS_ORIGINS and refuses what is not an origin', () => {
    expect(load({}).corsOrigins).toEqual([]);
    expect(load({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000/' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:3000',
    ]);
    expect(load({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(errorOf({ CORS_ORIGINS: 'example.com' })).toMatch(/CORS_ORIGINS: "example\.com" is not an origin/);
    expect(errorOf({ CORS_ORIGINS: 'https://a.example.com/app' })).toMatch(/not a bare origin/);
    expect(errorOf({ CORS_ORIGINS: '*,https://a.example.com' })).toMatch(/cannot be combined/);
  });

  it('parses ALLOWED_HOSTS on top of the defaults (listen name, localhost, 127.0.0.1, ::1) and refuses what is not a host name', () => {
    expect(load({}).allowedHosts.sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    expect(load({ HOST: '127.0.0.2', ALLOWED_HOSTS: 'Colloquy.Example.com., [fd00::1], my_service' }).allowedHosts.sort()).toEqual(
      ['127.0.0.1', '127.0.0.2', '::1', 'colloquy.example.com', 'fd00::1', 'localhost', 'my_service'].sort(),
    );
    expect(load({ ALLOWED_HOSTS: '*' }).allowedHosts).toEqual(['*']);
    expect(load({ HOST: '0.0.0.0', ALLOW_OPEN: '1' }).allowedHosts.sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    expect(errorOf({ ALLOWED_HOSTS: 'colloquy.example.com:5000' })).toMatch(/ALLOWED_HOSTS: "colloquy\.example\.com:5000" is not a host name/);
    expect(errorOf({ ALLOWED_HOSTS: 'https://colloquy.example.com' })).toMatch(/is not a host name/);
    expect(errorOf({ ALLOWED_HOSTS: '*,a.example.com' })).toMatch(/cannot be combined/);
  });

  it('parses TRUST_PROXY: off unless set, a number of hops or proxy addresses; never "true"', () => {
    expect(load({}).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(load({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(errorOf({ TRUST_PROXY: 'true' })).toMatch(/TRUST_PROXY: "true" would believe any client-written X-Forwarded-For/);
    expect(errorOf({ TRUST_PROXY: 'not-an-address' })).toMatch(/TRUST_PROXY: .*expected a number of hops/);
  });

  it('refuses HEADERS_TIMEOUT_MS above REQUEST_TIMEOUT_MS, and upload memory limits that cannot hold one file', () => {
    expect(errorOf({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' })).toMatch(/HEADERS_TIMEOUT_MS: 20000 is more than REQUEST_TIMEOUT_MS/);
    expect(errorOf({ MAX_FILE_BYTES: '20mb', UPLOAD_MEMORY_PER_REQUEST: '10mb' })).toMatch(/UPLOAD_MEMORY_PER_REQUEST: .* less than MAX_FILE_BYTES/);
    expect(errorOf({ UPLOAD_MEMORY_PER_REQUEST: '64mb', UPLOAD_MEMORY_TOTAL: '32mb' })).toMatch(/UPLOAD_MEMORY_TOTAL: .* less than UPLOAD_MEMORY_PER_REQUEST/);
    // Defaults grow with MAX_FILE_BYTES.
    const big = load({ MAX_FILE_BYTES: '100mb' });
    expect([big.uploadMemoryPerRequest, big.uploadMemoryTotal]).toEqual([100 * 2 ** 20, 256 * 2 ** 20]);
  });

  it('has sane defaults for the limits', () => {
    const c = load({});
    expect([c.rateLimitPerMinute, c.maxConcurrentTurnsPerUser, c.apiKeys, c.allowOpen]).toEqual([600, 4, [], false]);
  });

  it('the key ring matches exact keys only', () => {
    const ring = createKeyRing([
      { key: 'alpha-key-000001', user: 'a', role: 'user' },
      { key: 'beta-key-0000002', user: 'b', role: 'admin' },
    ]);
    expect(ring.authenticate('alpha-key-000001')?.principal).toEqual({ userId: 'a', role: 'user' });
    expect(ring.authenticate('beta-key-0000002')?.principal).toEqual({ userId: 'b', role: 'admin' });
    for (const wrong of ['', 'alpha-key-00000', 'alpha-key-0000011', 'ALPHA-KEY-000001', ' alpha-key-000001']) {
      expect(ring.authenticate(wrong), wrong).toBeUndefined();
    }
    // The bucket id is derived from the key but does not reveal it.
    expect(ring.authenticate('alpha-key-000001')?.keyId).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('start-up warnings', () => {
  /** The warnings a server logs while starting with `env`. */
  async function warningsOf(env: Record<string, string>): Promise<string[]> {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    const server = await startTestServer(env, { logger });
    await server.dispose();
    return lines.map((l) => (JSON.parse(l) as { level: number; msg: string })).filter((l) => l.level === 40).map((l) => l.msg);
  }

  it('warns that the server runs open, on loopback and with ALLOW_OPEN alike', async () => {
    expect(await warningsOf({})).toEqual([expect.stringMatching(/no API_KEYS configured: running open .* on loopback 127\.0\.0\.1/)]);
    // (Checked without listening on a public address.)
    expect(securityWarnings({ apiKeys: [], host: '0.0.0.0', allowOpen: true })).toEqual([
      expect.stringMatching(/running OPEN on 0\.0\.0\.0 because ALLOW_OPEN is set/),
    ]);
  });

  it('warns about short keys, naming their users but never the keys', async () => {
    const warnings = await warningsOf({ API_KEYS: 'short-k1:alice:user,a-long-enough-key-0001:bob:user' });
    expect(warnings).toEqual([expect.stringMatching(/1 API key\(s\) shorter than 16 characters \(users: alice\)/)]);
    expect(warnings.join('\n')).not.toContain('short-k1');
  });
});

describe('security headers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOCAL_AGENT_DELTA_DELAY_MS: '20' });
  });
  afterAll(() => server?.dispose());

  it('sets helmet headers on API answers and the console, with a CSP that allows only same-origin', async () => {
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(readFileSync(join(webDist, 'index.html'), 'utf8'))?.[1];
    expect(script).toBeTruthy();
    for (const path of ['/get_conversation_list', '/', '/c/some-conversation', script!, '/no-such-route']) {
      const res = await fetch(`${server.url}${path}`);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/default-src 'self'/);
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toMatch(/connect-src 'self'/);
      expect(csp, path).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('a streamed answer keeps nosniff, CORP and HSTS but not the document-only headers', async () => {
    for (const [path, body] of [
      ['/converse', { query: 'hi', user: 'alice', response_mode: 'streaming' }],
      ['/v1/chat/completions', { model: 'local', messages: [{ role: 'user', content: 'hi' }], stream: true, user: 'alice' }],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.text();
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cross-origin-resource-policy'), path).toBe('same-origin');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=/);
      expect(res.headers.get('x-request-id'), path).toBeTruthy();
      for (const name of ['content-security-policy', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'x-xss-protection']) {
        expect(res.headers.get(name), `${path} ${name}`).toBeNull();
      }
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it("the web app needs nothing the CSP forbids: same-origin script and stylesheet, no inline code", () => {
    for (const page of ['index.html']) {
      const html = readFileSync(join(webDist, page), 'utf8');
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(body?.trim(), 'inline script').toBe('');
        expect(attrs).toMatch(/src="(?!https?:|\/\/)[^"]+"/);
      }
      expect(html).not.toMatch(/<style\b/);
      expect(html).not.toMatch(/\sstyle="/);
      expect(html).not.toMatch(/\son[a-z]+="/);
      for (const [, href] of html.matchAll(/<link\b[^>]*href="([^"]+)"/g)) expect(href).not.toMatch(/^(https?:)?\/\//);
    }
  });

  it('NDJSON answers still stream (first events arrive before the answer ends)', async () => {
    const res = await fetch(`${server.url}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'tell me something long', response_mode: 'streaming' }),
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('content-encoding')).toBeNull();
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/"event":"message"/);
    expect(first).not.toMatch(/message_end/);
    await reader.cancel();
  });
});

describe('CORS', () => {
  describe('not configured: same-origin only', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({});
    });
    afterAll(() => server?.dispose());

    it('sends no CORS headers, not even to a preflight', async () => {
      const res = await fetch(`${server.url}/get_conversation_list`, { headers: { origin: 'https://evil.example.com' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const pre = await fetch(`${server.url}/trpc/chat.send`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('CORS_ORIGINS lists origins', () => {
    let server: TestServer;
    const APP = 'https://app.example.com';
    beforeAll(async () => {
      server = await startTestServer({ CORS_ORIGINS: `${APP},http://localhost:3000`, API_KEYS: 'cors-key-0123456789:alice:user' });
    });
    afterAll(() => server?.dispose());

    it('answers a preflight for a listed origin without a key (browsers send none)', async () => {
      const pre = await fetch(`${server.url}/trpc/chat.send`, {
        method: 'OPTIONS',
        headers: {
          origin: APP,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, x-colloquy-user',
        },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('lets a listed origin read answers — 401s included — with the exposed headers', async () => {
      const withKey: Record<string, string> = { authorization: 'Bearer cors-key-0123456789' };
      for (const headers of [withKey, {}]) {
        const res = await fetch(`${server.url}/get_conversation_list`, { headers: { origin: APP, ...headers } });
        expect(res.headers.get('access-control-allow-origin')).toBe(APP);
        const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
        for (const h of ['x-request-id', 'retry-after', 'ratelimit', 'x-colloquy-conversation', 'x-colloquy-message']) expect(exposed).toContain(h);
      }
    });

    it('gives other origins nothing', async () => {
      const res = await fetch(`${server.url}/get_conversation_list`, {
        headers: { origin: 'https://evil.example.com', authorization: 'Bearer cors-key-0123456789' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('CORS_ORIGINS=*', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ CORS_ORIGINS: '*' });
    });
    afterAll(() => server?.dispose());

    it('allows any origin', async () => {
      const res = await fetch(`${server.url}/get_conversation_list`, { headers: { origin: 'https://anywhere.example.org' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    });
  });
});
