import { describe, expectTypeOf, it } from 'vitest';
import { createClient, type Answer, type Conversation, type StreamEvent } from '../src/index.ts';

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
  });

  it('narrows stream events by name', () => {
    const handle = (ev: StreamEvent) => {
      if (ev.event === 'message') expectTypeOf(ev.answer).toEqualTypeOf<string>();
      if (ev.event === 'message_end') {
        expectTypeOf(ev.status).toEqualTypeOf<Answer['status']>();
        expectTypeOf<(typeof ev.metadata.retriever_resources)[number]['document_name']>().toEqualTypeOf<string>();
      }
      // @ts-expect-error only message events have an answer delta
      void ev.answer;
    };
    expectTypeOf(handle).parameter(0).toEqualTypeOf<StreamEvent>();
  });
});
