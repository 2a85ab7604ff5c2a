/**
 * The seed's curl example (spec/flask-api-doc.zh.md, "与代理对话"):
 *
 *   curl -X POST http://127.0.0.1:5000/converse -H "Content-Type: application/json" -d '{
 *     "user_id": "user123", "conversation_id": "conv456", "manager_id": "manager789",
 *     "query": "你好", "files": ["file1.txt", "file2.txt"], "response_mode": "blocking" }'
 *
 * works once file1.txt and file2.txt were uploaded by path (POST /upload_files, as the seed does).
 */
import { describe, expect, it } from 'vitest';
import {
  answerOf,
  converse,
  converseStreaming,
  listConversations,
  storedMessages,
  uploadPaths,
  useServer,
  type Json,
} from './support/http-helpers.ts';

const FILE1 =
  'Sourdough bread baking.\n\n' +
  'A sourdough starter is a fermented mixture of flour and water that leavens the dough. ' +
  'Bakers feed the starter every day and bake the loaves in a hot Dutch oven.';
const FILE2_PASSAGE =
  "Saturn's rings are made mostly of water ice particles, with a small amount of rocky debris and dust.";
const FILE2 = `Planetary rings.\n\n${FILE2_PASSAGE}\n\nThe main rings reach about 280,000 kilometres from the planet but are only about ten metres thick.`;

/** The seed's request body, with overrides. */
const seedBody = (overrides: Record<string, unknown> = {}) => ({
  user_id: 'user123',
  conversation_id: 'conv456',
  manager_id: 'manager789',
  query: '你好',
  files: ['file1.txt', 'file2.txt'],
  response_mode: 'blocking',
  ...overrides,
});

describe("the seed's /converse example", () => {
  const server = useServer();

  it('uploads file1.txt and file2.txt by path', async () => {
    const s = server();
    s.writeInbox('file1.txt', FILE1);
    s.writeInbox('file2.txt', FILE2);
    const res = await uploadPaths(s.url, ['file1.txt', 'file2.txt']);
    expect(res.status, res.text).toBe(200);
    expect((res.body as Json).message).toBe('文件上传成功');
    expect((res.body as Json).response.map((f: Json) => f.name)).toEqual(['file1.txt', 'file2.txt']);
  });

  it("answers a question on file2's topic by quoting file2 and citing it", async () => {
    const { url } = server();
    const res = await converse(url, seedBody({ query: "What are Saturn's rings made of?" }));
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const body = res.body as Json;
    expect(body).toMatchObject({ event: 'message', conversation_id: 'conv456' });
    expect(typeof body.message_id).toBe('string');
    expect(body.answer).toContain(FILE2_PASSAGE);
    expect(body.answer).toContain('file2.txt');

    const resources: Json[] = body.metadata.retriever_resources;
    expect(resources.length).toBeGreaterThan(0);
    expect(resources[0]).toMatchObject({ position: 1, document_name: 'file2.txt' });
    expect(resources[0].content).toContain(FILE2_PASSAGE);
    expect(resources.some((r) => r.document_name === 'file1.txt')).toBe(false);
    expect(body.metadata.usage.total_tokens).toBeGreaterThan(0);
  });

  it('answers the original query "你好" with 200 and a non-empty answer in the same conversation', async () => {
    const { url } = server();
    const res = await converse(url, seedBody());
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const body = res.body as Json;
    expect(body.event).toBe('message');
    expect(body.conversation_id).toBe('conv456');
    expect(typeof body.answer).toBe('string');
    expect(body.answer.trim().length).toBeGreaterThan(0);
    expect(Array.isArray(body.metadata.retriever_resources)).toBe(true);
  });

  it('stored conv456 for user123 under manager789', async () => {
    const { url } = server();
    const byManager = await listConversations(url, { manager_id: 'manager789' });
    expect(byManager.status).toBe(200);
    expect((byManager.body as Json).data).toEqual([expect.objectContaining({ id: 'conv456', user: 'user123' })]);
    const byUser = await listConversations(url, { user_id: 'user123' });
    expect((byUser.body as Json).data.map((c: Json) => c.id)).toEqual(['conv456']);
    const messages = await storedMessages(url, 'conv456');
    expect(messages.map((m: Json) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[2].content).toBe('你好');
    expect(messages[2].fileIds).toHaveLength(2);
  });

  it('streams the same example as NDJSON; the deltas equal the stored answer', async () => {
    const { url } = server();
    const { res, events } = await converseStreaming(
      url,
      seedBody({ query: 'How thick are the main rings of Saturn?', response_mode: 'streaming' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(events.length).toBeGreaterThan(1);
    const end = events.at(-1);
    expect(end).toMatchObject({ event: 'message_end', status: 'complete', conversation_id: 'conv456' });
    expect(end.metadata.retriever_resources[0]).toMatchObject({ document_name: 'file2.txt' });

    const answer = answerOf(events);
    expect(answer).toContain('ten metres thick');
    const stored = (await storedMessages(url, 'conv456')).find((m: Json) => m.id === end.message_id);
    expect(stored).toMatchObject({ role: 'assistant', status: 'complete', content: answer });

    const zh = await converseStreaming(url, seedBody({ response_mode: 'streaming' }));
    expect(zh.res.status).toBe(200);
    expect(zh.events.at(-1)).toMatchObject({ event: 'message_end', status: 'complete' });
    const zhAnswer = answerOf(zh.events);
    expect(zhAnswer.length).toBeGreaterThan(0);
    const zhStored = (await storedMessages(url, 'conv456')).find((m: Json) => m.id === zh.events[0].message_id);
    expect(zhStored?.content).toBe(zhAnswer);
  });
});
