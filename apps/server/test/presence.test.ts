/**
 * Presence (issue 6): connected clients are listed with their details while their presence
 * connection is open and they heartbeat; they disappear when it closes, when its socket is
 * killed, and — when the connection dies silently — within PRESENCE_TIMEOUT_MS of their last
 * sign of life. Users see only their own clients; admins (and open mode without a user) see all.
 */
import type { ClientEvent, ClientInfo } from '@colloquy/api';
import { startTcpProxy, waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorBody, type Json } from './support/http-helpers.ts';
import { connectPresence, startFreezableProxy, type PresenceHandle } from './support/presence-helpers.ts';
import { requestJson, startTestServer, type TestServer } from './support/test-server.ts';
import { createTestClient } from './support/trpc-client.ts';

const TIMEOUT_MS = 1000;

const ids = (clients: { id: string }[]) => clients.map((c) => c.id).sort();

describe('presence without API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS), LOCAL_AGENT_DELTA_DELAY_MS: '30' });
  });
  afterAll(() => server?.dispose());

  const clientAs = (user?: string, headers: Record<string, string> = {}) =>
    createTestClient(server.url, { ...(user ? { 'x-colloquy-user': user } : {}), ...headers });
  const listAs = async (user?: string): Promise<ClientInfo[]> => (await clientAs(user).clients.list.query()).clients;

  it('lists a client with its details while connected, with changes and leaves on clients.watch', async () => {
    const events: ClientEvent[] = [];
    const watch = clientAs().clients.watch.subscribe(undefined, { onData: (e) => events.push(e) });
    await waitFor(async () => events.length > 0);
    expect(events[0]).toEqual({ type: 'snapshot', clients: [] });

    const before = Date.now();
    const device = await connectPresence(clientAs('alice', { 'user-agent': 'camera-firmware/2.1' }), {
      clientId: 'cam-1',
      kind: 'device',
      name: 'Lab camera',
      metadata: { room: 'B12', resolution: [640, 480] },
    });
    device.startHeartbeats();
    expect(device.clientId).toBe('cam-1');
    expect(device.heartbeatMs).toBe(TIMEOUT_MS / 4);

    const [listed] = await listAs('alice');
    expect(listed).toEqual({
      id: 'cam-1',
      userId: 'alice',
      kind: 'device',
      name: 'Lab camera',
      ip: '127.0.0.1',
      userAgent: 'camera-firmware/2.1',
      metadata: { room: 'B12', resolution: [640, 480] },
      connectedAt: expect.any(String),
      lastSeen: expect.any(String),
      openStreams: 0,
      publishing: false,
    });
    expect(Date.parse(listed!.connectedAt)).toBeGreaterThanOrEqual(before - 1000);

    // Heartbeats keep it listed well past the timeout, and move last_seen.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 1.5));
    const [later] = await listAs('alice');
    expect(later?.id).toBe('cam-1');
    expect(Date.parse(later!.lastSeen)).toBeGreaterThan(Date.parse(listed!.lastSeen));

    // An answer stream opened by the client (X-Colloquy-Client) counts as one of its open streams.
    const chat = clientAs('alice', { 'x-colloquy-client': 'cam-1' });
    const started = await chat.chat.send.mutate({ query: 'Tell me a long story about cameras and light.' });
    let ended = false;
    const stream = chat.chat.events.subscribe(
      { messageId: started.messageId },
      { onData: (e) => void (e.data.event === 'message_end' && (ended = true)) },
    );
    await waitFor(async () => (await listAs('alice'))[0]?.openStreams === 1);
    await waitFor(async () => ended, 20_000);
    stream.unsubscribe();
    await waitFor(async () => (await listAs('alice'))[0]?.openStreams === 0);

    device.close();
    await waitFor(async () => (await listAs()).length === 0, 2000);
    watch.unsubscribe();

    const forCam = events.filter((e) => e.type !== 'snapshot' && e.client.id === 'cam-1');
    expect(forCam[0]).toMatchObject({ type: 'joined', client: { id: 'cam-1', kind: 'device', name: 'Lab camera' } });
    expect(forCam.some((e) => e.type === 'changed' && e.client.openStreams === 1)).toBe(true);
    expect(forCam.at(-1)).toMatchObject({ type: 'left', reason: 'closed', client: { id: 'cam-1' } });
  });

  it('drops a client at once when its socket is killed', async () => {
    const proxy = await startTcpProxy(server.url);
    const presence = await connectPresence(createTestClient(proxy.url, { 'x-colloquy-user': 'carol' }));
    expect(ids(await listAs('carol'))).toEqual([presence.clientId]);
    const cut = Date.now();
    // Cut every connection and stop listening, so the client cannot come back.
    await proxy.close();
    await waitFor(async () => (await listAs('carol')).length === 0, TIMEOUT_MS);
    expect(Date.now() - cut).toBeLessThan(TIMEOUT_MS);
    presence.close();
  });

  it('drops a client whose connection went silent within PRESENCE_TIMEOUT_MS of its last heartbeat', async () => {
    const proxy = await startFreezableProxy(server.url);
    const through = createTestClient(proxy.url, { 'x-colloquy-user': 'dave' });
    const presence = await connectPresence(through, { kind: 'laptop' });
    presence.startHeartbeats();
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 1.2));
    const [alive] = await listAs('dave');
    expect(alive?.id).toBe(presence.clientId);

    const events: ClientEvent[] = [];
    const watch = clientAs('dave').clients.watch.subscribe(undefined, { onData: (e) => events.push(e) });
    await waitFor(async () => events.length > 0);
    // The network goes quiet: no FIN, no RST, no more heartbeats.
    proxy.freeze();
    const frozenAt = Date.now();
    const lastSeen = Date.parse((await listAs('dave'))[0]!.lastSeen);
    await waitFor(async () => (await listAs('dave')).length === 0, TIMEOUT_MS * 2);
    const goneAfter = Date.now() - lastSeen;
    // The registry removes it at most TIMEOUT_MS after its last heartbeat; the slack covers this
    // test's polling and a busy machine's late timers.
    expect(goneAfter).toBeLessThanOrEqual(TIMEOUT_MS * 1.5);
    expect(Date.now() - frozenAt).toBeGreaterThan(TIMEOUT_MS * 0.5);
    console.info(`[presence] silent client gone ${goneAfter} ms after its last heartbeat (PRESENCE_TIMEOUT_MS ${TIMEOUT_MS})`);
    await waitFor(async () => events.some((e) => e.type === 'left'));
    expect(events.find((e) => e.type === 'left')).toMatchObject({ reason: 'timeout', client: { id: presence.clientId } });

    watch.unsubscribe();
    presence.close();
    await proxy.close();
  });

  it("shows a user only its own clients; open mode without a user shows all", async () => {
    const alice = await connectPresence(clientAs('alice'), { name: 'alice-phone' });
    const bob = await connectPresence(clientAs('bob'), { name: 'bob-tablet' });
    try {
      expect(ids(await listAs('alice'))).toEqual([alice.clientId]);
      expect(ids(await listAs('bob'))).toEqual([bob.clientId]);
      expect(ids(await listAs())).toEqual(ids([alice, bob].map((h) => ({ id: h.clientId }))));
      // The user in the input wins over the header, like every other procedure.
      expect(ids((await clientAs('alice').clients.list.query({ user: 'bob' })).clients)).toEqual([bob.clientId]);
      // REST: `user` filters.
      const restAlice = await requestJson(`${server.url}/get_client_list?user=alice`);
      expect((restAlice.body as Json).clients.map((c: Json) => c.id)).toEqual([alice.clientId]);
      // Client ids are per user: Bob cannot keep Alice's client alive (his own of that id does
      // not exist: the 404 an unused id gets), and connecting under the same id is a client of
      // his own (it used to be a 409 that told him the id was taken).
      const unused = await clientAs('bob').clients.heartbeat.mutate({ clientId: 'never-used-id' }).catch((e: unknown) => e);
      const alices = await clientAs('bob').clients.heartbeat.mutate({ clientId: alice.clientId }).catch((e: unknown) => e);
      expect(alices).toMatchObject({ data: { httpStatus: 404 } });
      expect((alices as Error).message).toBe((unused as Error).message);
      const bobsTwin = await connectPresence(clientAs('bob'), { clientId: alice.clientId, name: 'bob-twin' });
      try {
        expect((await listAs('bob')).map((c) => [c.id, c.name]).sort()).toEqual(
          [[bob.clientId, 'bob-tablet'], [alice.clientId, 'bob-twin']].sort(),
        );
        expect((await listAs('alice')).map((c) => [c.id, c.name])).toEqual([[alice.clientId, 'alice-phone']]);
      } finally {
        bobsTwin.close();
      }
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('GET /get_client_list answers {count, clients} with snake_case fields', async () => {
    const h = await connectPresence(clientAs('erin', { 'user-agent': 'shape-test' }), { kind: 'sdk', name: 'shape', metadata: { v: 1 } });
    try {
      const res = await requestJson(`${server.url}/get_client_list?user_id=erin`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = res.body as Json;
      expect(Object.keys(body).sort()).toEqual(['clients', 'count']);
      expect(body.count).toBe(1);
      expect(body.clients[0]).toEqual({
        id: h.clientId,
        user: 'erin',
        kind: 'sdk',
        name: 'shape',
        ip: '127.0.0.1',
        user_agent: 'shape-test',
        metadata: { v: 1 },
        connected_at: expect.any(Number),
        last_seen: expect.any(Number),
        open_streams: 0,
        publishing: false,
      });
      expect(Number.isInteger(body.clients[0].connected_at)).toBe(true);
      expect(Math.abs(body.clients[0].connected_at - Date.now() / 1000)).toBeLessThan(60);
      // Bad input is the route's error body.
      expectErrorBody(await requestJson(`${server.url}/get_client_list?user=${'x'.repeat(300)}`), 400, '获取客户端列表失败');
    } finally {
      h.close();
    }
  });

  it('refuses oversized metadata and bad kinds with a 400 before any stream', async () => {
    // An HTTP 400 (no stream is started): the EventSource reports the status.
    await expect(connectPresence(clientAs('frank'), { metadata: { blob: 'x'.repeat(3000) } })).rejects.toMatchObject({
      cause: { code: 400 },
    });
    await expect(connectPresence(clientAs('frank'), { kind: 'no spaces allowed' })).rejects.toMatchObject({ cause: { code: 400 } });
    expect(await listAs('frank')).toEqual([]);
  });
});

describe('presence at scale', () => {
  let server: TestServer;
  // A long timeout: this is about counting, not heartbeats (100 clients × 4 heartbeats/s would
  // only load a busy CI machine).
  beforeAll(async () => {
    server = await startTestServer({ PRESENCE_TIMEOUT_MS: '30000' });
  });
  afterAll(() => server?.dispose());
  const clientOf = (user?: string) => createTestClient(server.url, user ? { 'x-colloquy-user': user } : {});

  it('counts 100 clients right, per user and in total, and as they leave', async () => {
    const users = ['u0', 'u1', 'u2', 'u3'];
    const clients = users.map((u) => clientOf(u));
    const started = Date.now();
    const handles: PresenceHandle[] = await Promise.all(
      Array.from({ length: 100 }, (_, i) => connectPresence(clients[i % 4]!, { kind: 'sim', name: `sim-${i}` })),
    );
    const connectMs = Date.now() - started;

    const all = await clientOf().clients.list.query();
    expect(all.count).toBe(100);
    expect(new Set(all.clients.map((c) => c.id)).size).toBe(100);
    for (const u of users) expect((await clientOf(u).clients.list.query()).count).toBe(25);
    const rest = await requestJson(`${server.url}/get_client_list`);
    expect((rest.body as Json).count).toBe(100);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^colloquy_connected_clients 100$/m);

    // The first 40 go away (u0 and u2 lose 10 each, u1 and u3 lose 10 each).
    for (const h of handles.slice(0, 40)) h.close();
    await waitFor(async () => (await clientOf().clients.list.query()).count === 60, 3000);
    for (const u of users) expect((await clientOf(u).clients.list.query()).count).toBe(15);
    for (const h of handles.slice(40)) h.close();
    await waitFor(async () => (await clientOf().clients.list.query()).count === 0, 3000);
    console.info(`[presence] 100 presence connections registered in ${connectMs} ms`);
  });

});

describe('presence and rate limits', () => {
  it('heartbeats do not use up the rate limit', async () => {
    const server = await startTestServer({ PRESENCE_TIMEOUT_MS: '30000', RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const client = createTestClient(server.url, { 'x-colloquy-user': 'busy' });
      const presence = await connectPresence(client);
      for (let i = 0; i < 20; i++) await client.clients.heartbeat.mutate({ clientId: presence.clientId });
      // Ordinary calls still count: 1 (connect) + 4 fit, the 6th is refused.
      for (let i = 0; i < 4; i++) await client.clients.list.query();
      const refused = await client.clients.list.query().then(
        () => undefined,
        (err: { meta?: { response?: Response } }) => err.meta?.response?.status,
      );
      expect(refused).toBe(429);
      presence.close();
    } finally {
      await server.dispose();
    }
  });
});

describe('presence with API keys', () => {
  const KEYS = { alice: 'alice-presence-key-0001', bob: 'bob-presence-key-00002', ops: 'ops-presence-admin-key-3' };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS),
      API_KEYS: `${KEYS.alice}:alice:user,${KEYS.bob}:bob:user,${KEYS.ops}:ops:admin`,
    });
  });
  afterAll(() => server?.dispose());

  const withKey = (key: string) => createTestClient(server.url, { authorization: `Bearer ${key}` });
  const restList = (key: string | undefined, query = '') =>
    requestJson(`${server.url}/get_client_list${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('a user key sees only its own clients, an admin key sees all', async () => {
    const alice = await connectPresence(withKey(KEYS.alice), { name: 'a' });
    const bob = await connectPresence(withKey(KEYS.bob), { name: 'b' });
    try {
      expect(ids((await withKey(KEYS.alice).clients.list.query()).clients)).toEqual([alice.clientId]);
      expect((await withKey(KEYS.alice).clients.list.query()).clients[0]?.userId).toBe('alice');
      expect(ids((await withKey(KEYS.bob).clients.list.query()).clients)).toEqual([bob.clientId]);
      expect(ids((await withKey(KEYS.ops).clients.list.query()).clients)).toEqual(ids([{ id: alice.clientId }, { id: bob.clientId }]));
      expect(ids((await withKey(KEYS.ops).clients.list.query({ user: 'bob' })).clients)).toEqual([bob.clientId]);
      // A user key naming another user is refused.
      await expect(withKey(KEYS.alice).clients.list.query({ user: 'bob' })).rejects.toMatchObject({ data: { httpStatus: 403 } });

      expect((await restList(KEYS.alice)).body).toMatchObject({ count: 1, clients: [{ id: alice.clientId, user: 'alice' }] });
      expect(((await restList(KEYS.ops)).body as Json).count).toBe(2);
      expectErrorBody(await restList(KEYS.alice, '?user=bob'), 403, '获取客户端列表失败');
      expectErrorBody(await restList(undefined), 401);

      // No key, no presence.
      await expect(connectPresence(createTestClient(server.url))).rejects.toMatchObject({ name: 'TRPCClientError', cause: { code: 401 } });
      const watchEvents: ClientEvent[] = [];
      const watch = withKey(KEYS.bob).clients.watch.subscribe(undefined, { onData: (e) => watchEvents.push(e) });
      await waitFor(async () => watchEvents.length > 0);
      const carolish = await connectPresence(withKey(KEYS.alice), { name: 'a2' });
      carolish.close();
      await new Promise((r) => setTimeout(r, 200));
      watch.unsubscribe();
      // Bob's watch saw his own client in the snapshot and nothing of Alice's.
      expect(watchEvents).toEqual([{ type: 'snapshot', clients: [expect.objectContaining({ id: bob.clientId })] }]);
    } finally {
      alice.close();
      bob.close();
    }
  });
});
