import { createTRPCClient, httpLink } from '@trpc/client';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createClient,
  type Answer,
  type AppRouter,
  type ClientEvent,
  type ClientInfo,
  type Conversation,
  type FileInfo,
  type Message,
  type RawResponse,
  type RequestOptions,
  type StreamEvent,
} from '../src/index.ts';

const client = createClient({ baseUrl: 'http://localhost:5000' });

describe('types inferred from the router', () => {
  it('types call results', () => {
    expectTypeOf(client.converse).returns.resolves.toEqualTypeOf<Answer>();
    expectTypeOf(client.conversations.get).returns.resolves.toEqualTypeOf<Conversation>();
    expectTypeOf<Conversation['managerId']>().toEqualTypeOf<string | null>();
    expectTypeOf<Answer['status']>().toEqualTypeOf<'streaming' | 'complete' | 'stopped' | 'interrupted' | 'error'>();
    expectTypeOf(client.stream({ query: 'hi' }).messageId).toEqualTypeOf<Promise<string>>();
  });

  it('rejects wrong inputs at compile time', () => {
    // @ts-expect-error query is required
    void client.converse({});
    // @ts-expect-error query must be a string
    void client.converse({ query: 42 });
    // @ts-expect-error unknown fields are refused
    void client.converse({ query: 'hi', conversationID: 'typo' });
    // @ts-expect-error limit is a number
    void client.conversations.list({ limit: '10' });
    // @ts-expect-error files are strings
    void client.stream({ query: 'hi', files: [1] });
    // @ts-expect-error a new conversation has no id yet
    void client.converse({ query: 'hi', newConversation: true, conversationId: 'c1' });
    void client.converse({ query: 'hi', newConversation: true });
    void client.converse({ query: 'hi', conversationId: 'c1', newConversation: false });
  });

  it('narrows stream events by name', () => {
    const handle = (ev: StreamEvent) => {
      if (ev.event === 'message') expectTypeOf(ev.answer).toEqualTypeOf<string>();
      if (ev.event === 'message_end') {
        expectTypeOf(ev.status).toEqualTypeOf<Answer['status']>();
        expectTypeOf(ev.citations).toEqualTypeOf<Answer['citations']>();
        expectTypeOf(ev.usage).toEqualTypeOf<Answer['usage']>();
      }
      if (ev.event === 'message_file') expectTypeOf(ev.fileId).toEqualTypeOf<string>();
      // @ts-expect-error only message events have an answer delta
      void ev.answer;
    };
    expectTypeOf(handle).parameter(0).toEqualTypeOf<StreamEvent>();
  });
});

describe('one shape: camelCase, times as epoch milliseconds', () => {
  it('applies to stream events, answers, records and clients', () => {
    expectTypeOf<StreamEvent['conversationId']>().toEqualTypeOf<string>();
    expectTypeOf<StreamEvent['messageId']>().toEqualTypeOf<string>();
    expectTypeOf<StreamEvent['createdAt']>().toEqualTypeOf<number>();
    expectTypeOf<StreamEvent>().not.toHaveProperty('conversation_id');
    expectTypeOf<StreamEvent>().not.toHaveProperty('created_at');
    expectTypeOf<Answer['createdAt']>().toEqualTypeOf<number>();
    expectTypeOf<Conversation['createdAt']>().toEqualTypeOf<number>();
    expectTypeOf<Conversation['updatedAt']>().toEqualTypeOf<number>();
    expectTypeOf<Message['createdAt']>().toEqualTypeOf<number>();
    expectTypeOf<FileInfo['createdAt']>().toEqualTypeOf<number>();
    expectTypeOf<ClientInfo['connectedAt']>().toEqualTypeOf<number>();
    expectTypeOf<ClientInfo['lastSeen']>().toEqualTypeOf<number>();
    expectTypeOf<Extract<ClientEvent, { type: 'snapshot' }>['clients']>().toEqualTypeOf<ClientInfo[]>();
    expectTypeOf<NonNullable<Answer['usage']>>().toEqualTypeOf<{ promptTokens: number; completionTokens: number; totalTokens: number }>();
  });
});

describe('per-call options and raw responses', () => {
  it('every method takes request options', () => {
    const o: RequestOptions = { signal: AbortSignal.timeout(1000), timeoutMs: 5000, maxRetries: 1, headers: { 'x-trace': '1' } };
    void client.conversations.list({}, o);
    void client.conversations.iterate({}, o);
    void client.conversations.get('c', o);
    void client.conversations.rename('c', 'n', o);
    void client.conversations.delete('c', o);
    void client.messages.list('c', {}, o);
    void client.messages.iterate('c', {}, o);
    void client.files.uploadPaths(['a'], o);
    void client.files.upload(new Blob(['x']), { ...o, name: 'x.txt' });
    void client.files.list({}, o);
    void client.files.iterate({}, o);
    void client.files.get('f', o);
    void client.files.delete('f', o);
    void client.agents.list(o);
    void client.converse({ query: 'q' }, o);
    void client.stream({ query: 'q' }, { ...o, maxReconnects: 2 });
    void client.resume('m', { ...o, lastEventId: '3' });
    void client.stop('m', o);
    void client.clients.list(o);
  });

  it('withResponse() gives the data and the response', () => {
    expectTypeOf(client.agents.list().withResponse()).resolves.toHaveProperty('response').toEqualTypeOf<RawResponse>();
    expectTypeOf(client.conversations.get('c').withResponse()).resolves.toHaveProperty('data').toEqualTypeOf<Conversation>();
    expectTypeOf<RawResponse['requestId']>().toEqualTypeOf<string | undefined>();
  });

  it('AppRouter types a plain @trpc/client (the wire shape)', () => {
    const raw = createTRPCClient<AppRouter>({ links: [httpLink({ url: 'http://localhost:5000/trpc' })] });
    expectTypeOf(raw.chat.send.mutate).parameter(0).toHaveProperty('query').toEqualTypeOf<string>();
    expectTypeOf(raw.conversations.get.query).returns.resolves.toHaveProperty('createdAt').toEqualTypeOf<string>();
  });
});
