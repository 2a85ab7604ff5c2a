import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { createSseSubscription } from '../src/transport/sse-subscription.ts';

// The SSE consumer's reading of tRPC v11's protocol, on byte streams a server could send (the
// whole path through a real server is in answer-events.test.ts). The fetch here stands in for
// the network: it answers with the given bytes, cut into the given pieces.

function serve(wire: string, pieces: (bytes: Uint8Array) => Uint8Array[], hold = false) {
  const requests: { url: string; headers: Headers }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    requests.push({ url: String(input), headers: new Headers(init?.headers) });
    const chunks = pieces(new TextEncoder().encode(wire));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        if (!hold) controller.close();
        init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch, requests };
}

const bytewise = (bytes: Uint8Array) => Array.from(bytes, (b) => Uint8Array.of(b));

describe('the SSE subscription consumer', () => {
  it('reads data events split anywhere (inside a UTF-8 character too), skips pings, ends at return', async () => {
    const events = [{ id: '1', answer: 'Grüße, 🚀' }, { id: '2', answer: 'line\nbreak' }];
    const wire =
      'event: connected\ndata: {"reconnectAfterInactivityMs":25000}\n\n' +
      `data: ${JSON.stringify(events[0])}\nid: 1\n\n` +
      'event: ping\ndata: \n\n' +
      `data: ${JSON.stringify(events[1])}\nid: 2\n\n` +
      'event: return\ndata: \n\n';
    const { fetch, requests } = serve(wire, bytewise);
    const subscribe = createSseSubscription({ url: 'http://server/trpc/', headers: { authorization: 'Bearer k' }, fetch });
    const seen: unknown[] = [];
    const end = await subscribe('chat.events', { messageId: 'm', lastEventId: '7' }, { signal: new AbortController().signal, headers: { 'x-request-id': 'r' }, onData: (d) => seen.push(d) });
    expect(end).toBe('return');
    expect(seen).toEqual(events);
    // tRPC's query encoding of the input (no transformer), with the client's and the call's headers.
    expect(requests[0]!.url).toBe(`http://server/trpc/chat.events?input=${encodeURIComponent('{"messageId":"m","lastEventId":"7"}')}`);
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer k');
    expect(requests[0]!.headers.get('x-request-id')).toBe('r');
    expect(requests[0]!.headers.get('accept')).toBe('text/event-stream');
  });

  it('a stream that ends without return resolves closed; a serialized-error rejects as tRPC would', async () => {
    const open = serve('event: connected\ndata: {}\n\ndata: {"id":"1"}\nid: 1\n\n', (b) => [b]);
    const subscribe = createSseSubscription({ url: 'http://server/trpc', headers: {}, fetch: open.fetch });
    expect(await subscribe('chat.events', {}, { signal: new AbortController().signal, onData: () => undefined })).toBe('closed');

    const shape = { message: 'Message not found', code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404, path: 'chat.events' } };
    const failing = serve(`event: connected\ndata: {}\n\nevent: serialized-error\ndata: ${JSON.stringify(shape)}\n\n`, (b) => [b]);
    const err = await createSseSubscription({ url: 'http://server/trpc', headers: {}, fetch: failing.fetch })('chat.events', {}, {
      signal: new AbortController().signal,
      onData: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect(err).toMatchObject({ message: 'Message not found', data: { code: 'NOT_FOUND', httpStatus: 404 } });
  });

  it('gives a silent stream up after the inactivity the server announced; an abort resolves aborted', async () => {
    const silent = serve('event: connected\ndata: {"reconnectAfterInactivityMs":30}\n\n', (b) => [b], true);
    const subscribe = createSseSubscription({ url: 'http://server/trpc', headers: {}, fetch: silent.fetch });
    const err = await subscribe('chat.events', {}, { signal: new AbortController().signal, onData: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as Error).message).toMatch(/Timeout of 30ms/);

    const held = serve('event: connected\ndata: {}\n\n', (b) => [b], true);
    const controller = new AbortController();
    const pending = createSseSubscription({ url: 'http://server/trpc', headers: {}, fetch: held.fetch })('chat.events', {}, {
      signal: controller.signal,
      onData: () => undefined,
    });
    controller.abort();
    expect(await pending).toBe('aborted');
  });
});
