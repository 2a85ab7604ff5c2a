import { randomUUID } from 'node:crypto';
import { openPostgresStore } from '@colloquy/store';
import { serviceAvailable, testServices } from '@colloquy/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestClient } from './support/trpc-client.ts';
import { readNdjson, requestJson, startTestServer } from './support/test-server.ts';

// TEST_DATABASE_URL, else the local PostgreSQL at its default address; in CI a missing one fails.
const url = (await testServices()).postgres;
const runs = serviceAvailable(url, 'PostgreSQL', 'server: on PostgreSQL');

const schema = `colloquy_srv_${randomUUID().replace(/-/g, '')}`;

describe.runIf(runs)('the server on PostgreSQL (DATABASE_URL=postgres://…)', () => {
  afterAll(async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });

  it('runs turns, lists and survives a restart with its data', async () => {
    // Create and migrate the schema, then point the server at it through the URL.
    await (await openPostgresStore({ connectionString: url!, schema })).close();
    const databaseUrl = new URL(url!);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);

    const first = await startTestServer({ DATABASE_URL: databaseUrl.toString() });
    first.writeInbox('cats.txt', 'Cats sleep about sixteen hours a day.');
    expect((await requestJson(`${first.url}/upload_files`, { body: { file_paths: ['cats.txt'] } })).status).toBe(200);
    const blocking = await requestJson(`${first.url}/converse`, {
      body: { user_id: 'pg-user', conversation_id: 'pg-conv', query: 'How long do cats sleep?', files: ['cats.txt'] },
    });
    expect(blocking.body).toMatchObject({ conversation_id: 'pg-conv', status: 'complete' });
    expect((blocking.body as { answer: string }).answer).toContain('sixteen hours');
    const streamed = await readNdjson(
      await fetch(`${first.url}/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'pg-user', conversation_id: 'pg-conv', query: 'cats', response_mode: 'streaming' }),
      }),
    );
    expect(streamed.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    await first.dispose();

    const second = await startTestServer({ DATABASE_URL: databaseUrl.toString() });
    try {
      const client = createTestClient(second.url);
      const messages = await client.messages.list.query({ conversationId: 'pg-conv', user: 'pg-user' });
      expect(messages.items.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'complete'],
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
      const list = await requestJson(`${second.url}/get_conversation_list?user=pg-user`);
      expect(list.body).toMatchObject({ data: [{ id: 'pg-conv', name: 'How long do cats sleep?' }] });
      expect((await requestJson(`${second.url}/delete_conv`, { method: 'DELETE', body: { conversation_id: 'pg-conv' } })).status).toBe(200);
    } finally {
      await second.dispose();
    }
  });
});
