/**
 * One shape in everything the SDK returns: camelCase fields and every time as epoch
 * milliseconds (stream events, answers, conversations, messages, files, clients); English error
 * messages with the server's body kept; request ids on stream errors; presence refusals typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColloquyError, createClient, NotFoundError, UnauthorizedError, type ClientEvent, type StreamEvent } from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const KEY = 'sdk-shape-key-0000001';
let fx: SdkFixture;

beforeAll(async () => {
  fx = await startSdkFixture({ API_KEYS: `${KEY}:shaper:user`, PRESENCE_TIMEOUT_MS: '2000' });
});
afterAll(() => fx?.dispose());

/** Every field, however deep, as [path, value] (`a.b[0].c`). */
function fieldsOf(value: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => fieldsOf(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path ? `${path}.${k}` : k;
    return [[here, v] as [string, unknown], ...fieldsOf(v, here)];
  });
}
const nameOf = (path: string) => path.split('.').at(-1)!.replace(/\[\d+\]$/, '');
/** Fields that are not camelCase (metadata is the caller's own JSON and is left alone). */
const notCamel = (value: unknown) => fieldsOf(value).filter(([k]) => !k.includes('metadata.') && nameOf(k).includes('_')).map(([k]) => k);
/** Time fields (`…At`, `lastSeen`). */
const timesOf = (value: unknown) => fieldsOf(value).filter(([k]) => /At$|^lastSeen$/.test(nameOf(k)));
const isRecentEpochMs = (v: unknown) => typeof v === 'number' && Math.abs(v - Date.now()) < 120_000;

describe('one shape everywhere', () => {
  it('stream events, answers, conversations, messages, files and clients: camelCase, times in epoch ms', async () => {
    const client = createClient({ baseUrl: fx.server.url, apiKey: KEY, name: 'shape-check' });
    try {
      await client.clients.ready();
      const watch = client.clients.watch();
      const watched: ClientEvent[] = [];
      const reading = (async () => {
        for await (const e of watch) watched.push(e);
      })();
      const [file] = await client.files.uploadPaths(['engines.md']);
      const stream = client.stream({ query: 'What does the rocket engine burn?', files: [file!.id], newConversation: true });
      const events: StreamEvent[] = [];
      for await (const ev of stream) events.push(ev);
      const answer = await stream.final();
      const blocking = await client.converse({ query: 'And the turbopump?', conversationId: answer.conversationId });
      const conversation = await client.conversations.get(answer.conversationId);
      const messages = await client.messages.list(answer.conversationId);
      const files = await client.files.list();
      const clients = await client.clients.list();
      watch.close();
      await reading;

      const end = events.at(-1)!;
      expect(end).toMatchObject({ event: 'message_end', status: 'complete', conversationId: answer.conversationId, messageId: answer.messageId });
      if (end.event !== 'message_end') throw new Error('unreachable');
      // message_end's usage and citations are shaped as the Answer's.
      expect(end.usage).toEqual(answer.usage);
      expect(end.citations).toEqual(answer.citations);
      expect(answer.citations[0]).toMatchObject({ fileId: file!.id, fileName: 'engines.md' });

      const everything = { events, answer, blocking, conversation, messages, file, files, clients, watched };
      expect(notCamel(everything)).toEqual([]);
      const times = timesOf(everything);
      expect(times.length).toBeGreaterThan(events.length + 8);
      expect(times.filter(([, v]) => !isRecentEpochMs(v))).toEqual([]);
      for (const key of ['answer.createdAt', 'blocking.createdAt', 'conversation.createdAt', 'conversation.updatedAt', 'file.createdAt', 'clients.clients[0].connectedAt', 'clients.clients[0].lastSeen']) {
        expect(times.map(([k]) => k)).toContain(key);
      }
    } finally {
      await client.close();
    }
  });
});

describe('errors', () => {
  it('messages are English; the REST contract’s Chinese text stays on the body', async () => {
    const anonymous = createClient({ baseUrl: fx.server.url });
    const err = await anonymous.conversations.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).toMatchObject({ message: 'missing or invalid API key', body: { message: '未授权', error: 'missing or invalid API key' } });
  });

  it('a 401 on the presence connection is an UnauthorizedError with the server’s reason and request id', async () => {
    const refused = createClient({ baseUrl: fx.server.url, apiKey: 'sdk-wrong-key-00000000', presence: true });
    const err = await refused.clients.ready().catch((e: unknown) => e);
    await refused.close();
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: 'missing or invalid API key' });
    expect((err as Error).message).not.toContain('Non-200');
    expect((err as UnauthorizedError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((err as UnauthorizedError).body).toMatchObject({ message: '未授权' });
  });

  it('stream errors carry the request id, as call errors do', async () => {
    const client = createClient({ baseUrl: fx.server.url, apiKey: KEY });
    const missing = await client.resume('no-such-message').final().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ message: 'Message not found', messageId: 'no-such-message' });
    expect((missing as NotFoundError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    const unauthorized = await createClient({ baseUrl: fx.server.url, apiKey: 'sdk-wrong-key-00000000' })
      .resume('no-such-message')
      .final()
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    expect((unauthorized as ColloquyError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((unauthorized as ColloquyError).message).toBe('missing or invalid API key');
  });
});
