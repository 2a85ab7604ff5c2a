import { waitFor } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, NotFoundError, type ColloquyClient, type StreamEvent } from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

// The SDK's own SSE consumer of `chat.events` (transport/sse-subscription.ts), through a real
// server behind a TCP proxy. A slow agent (100 ms per delta), so a stream is still running when
// the test acts on it.
let fx: SdkFixture;
let client: ColloquyClient;

beforeAll(async () => {
  fx = await startSdkFixture({ LOCAL_AGENT_DELTA_DELAY_MS: '100' });
  client = createClient({ baseUrl: fx.proxy.url, user: 'sdk-events', presence: false });
  await client.files.uploadPaths(['engines.md']);
});
afterAll(() => fx?.dispose());

const LONG_QUERY = 'Explain every orbital rocket engine, its turbopump, the combustion chamber and the propellant';

/** The server's count of open streaming responses (its `colloquy_active_streams` gauge). */
async function openStreams(): Promise<number> {
  const text = await (await fetch(`${fx.server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('colloquy_active_streams '));
  return Number(line?.split(' ')[1]);
}

describe('chat.events through the SDK', () => {
  it('a connection cut mid-stream resumes after the last event id: every event once, in order', async () => {
    const stream = client.stream({ query: LONG_QUERY, files: ['engines.md'] });
    const events: StreamEvent[] = [];
    const before = fx.proxy.connections();
    for await (const ev of stream) {
      events.push(ev);
      if (events.length === 3) fx.proxy.cutAll();
    }
    // At least chat.send, the first subscription and the re-attached one.
    expect(fx.proxy.connections() - before).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    // The same events as a fresh read of the finished message, none twice.
    const again: StreamEvent[] = [];
    for await (const ev of client.resume(await stream.messageId)) again.push(ev);
    expect(events).toEqual(again);
    expect((await stream.final()).status).toBe('complete');
  });

  it('a serialized-error before the first event is the typed error, not retried', async () => {
    // On the wire: HTTP 200, `connected`, then tRPC's error shape as `serialized-error`.
    const input = encodeURIComponent(JSON.stringify({ messageId: 'no-such-message', lastEventId: null }));
    const res = await fetch(`${fx.server.url}/trpc/chat.events?input=${input}`, { headers: { 'x-colloquy-user': 'sdk-events' } });
    expect(res.status).toBe(200);
    const wire = await res.text();
    expect(wire).toMatch(/^event: connected\n/);
    expect(wire).toMatch(/event: serialized-error\ndata: \{.*"code":-32004/);

    const before = fx.proxy.connections();
    const err = await client
      .resume('no-such-message')
      .final()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'NOT_FOUND', messageId: 'no-such-message' });
    expect((err as NotFoundError).requestId).toEqual(expect.any(String));
    // One try (a kept-alive connection may carry it).
    expect(fx.proxy.connections() - before).toBeLessThanOrEqual(1);
  });

  it('abort closes the connection: the server ends its side while the turn runs on', async () => {
    const controller = new AbortController();
    const stream = client.stream({ query: LONG_QUERY, files: ['engines.md'] }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    expect(await openStreams()).toBeGreaterThanOrEqual(1);
    controller.abort();
    await expect(stream.final()).rejects.toMatchObject({ code: 'ABORTED' });
    await waitFor(async () => (await openStreams()) === 0);
    // The server noticed the close before the answer ended: the turn is still being generated.
    const messageId = await stream.messageId;
    const stored = (await client.messages.list(await stream.conversationId)).items.find((m) => m.id === messageId);
    expect(stored?.status).toBe('streaming');
    expect(await client.stop(messageId)).toMatchObject({ status: 'stopped' });
  });
});
