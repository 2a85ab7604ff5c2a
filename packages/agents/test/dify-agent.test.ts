import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDifyAgent, UpstreamError, type AgentEvent, type AgentFile } from '../src/index.ts';
import { difyAnswer, startFakeDify, type FakeDify } from '@colloquy/testing';
import { sseData } from '@colloquy/testing';
import { waitFor } from '@colloquy/testing';
import { collect, FAST, file, runUntilStopped, settle, turn } from './helpers.ts';

let dify: FakeDify;
beforeEach(async () => {
  dify = await startFakeDify();
});
afterEach(async () => {
  await dify.close();
});

const agentFor = (d: FakeDify) => createDifyAgent({ id: 'dify', baseUrl: d.baseUrl, apiKey: d.apiKey, timeouts: FAST });

describe('dify agent', () => {
  it('streams an answer: deltas, thoughts, files, usage and citations', async () => {
    dify.chatScripts.push({
      chunks: [
        sseData({ event: 'workflow_started', task_id: 'task-7', workflow_run_id: 'wr', data: { id: 'wr', workflow_id: 'wf', created_at: 1 } }),
        sseData({ event: 'node_started', task_id: 'task-7', workflow_run_id: 'wr', data: { id: 'n', node_id: 'n', node_type: 'start', title: 'Start', index: 0 } }),
        'event: ping\n\n',
        sseData({ event: 'agent_thought', id: 'th-1', task_id: 'task-7', message_id: 'm', conversation_id: 'dify-conv-9', position: 1, thought: '', tool: 'dataset_search', tool_input: '{}', observation: '' }),
        // Dify re-sends a thought as it progresses; an unchanged one is not repeated.
        sseData({ event: 'agent_thought', id: 'th-1', task_id: 'task-7', message_id: 'm', conversation_id: 'dify-conv-9', position: 1, thought: '', tool: 'dataset_search', tool_input: '{}', observation: 'found' }),
        sseData({ event: 'agent_thought', id: 'th-1', task_id: 'task-7', message_id: 'm', conversation_id: 'dify-conv-9', position: 1, thought: 'Looking it up', tool: 'dataset_search', tool_input: '{}', observation: 'found' }),
        sseData({ event: 'agent_message', task_id: 'task-7', message_id: 'm', conversation_id: 'dify-conv-9', answer: 'Cats ' }),
        sseData({ event: 'message_file', id: 'df-1', type: 'image', belongs_to: 'assistant', url: '/files/tools/df-1.png?sign=x', conversation_id: 'dify-conv-9' }),
        ...difyAnswer({
          conversationId: 'dify-conv-9',
          taskId: 'task-7',
          deltas: ['sleep ', '16 hours.'],
          usage: { prompt_tokens: 1033, completion_tokens: 135, total_tokens: 1168 },
          resources: [
            { position: 1, dataset_id: 'ds', dataset_name: 'Pets', document_id: 'doc-1', document_name: 'cats.txt', segment_id: 's', score: 0.98457545, content: 'Cats sleep 16 hours.' },
          ],
        }),
      ],
    });
    const { events, answer, end } = await collect(agentFor(dify), turn('How long do cats sleep?', []));

    expect(answer).toBe('Cats sleep 16 hours.');
    expect(events[0]).toEqual({ event: 'upstream_conversation', upstreamConversationId: 'dify-conv-9' });
    expect(events.filter((e) => e.event === 'upstream_conversation')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'agent_thought')).toEqual([
      { event: 'agent_thought', thought: '', tool: 'dataset_search' },
      { event: 'agent_thought', thought: 'Looking it up', tool: 'dataset_search' },
    ]);
    expect(events).toContainEqual({ event: 'message_file', fileId: 'df-1', type: 'image', url: `${dify.origin}/files/tools/df-1.png?sign=x` });
    expect(events.some((e) => e.event === 'ping')).toBe(false);
    expect(end).toEqual({
      event: 'message_end',
      usage: { promptTokens: 1033, completionTokens: 135, totalTokens: 1168 },
      citations: [{ fileId: 'doc-1', fileName: 'cats.txt', passage: 'Cats sleep 16 hours.', score: 0.98457545 }],
    });

    const [chat] = dify.chats();
    expect(chat!.headers.authorization).toBe(`Bearer ${dify.apiKey}`);
    expect(chat!.json).toEqual({
      inputs: {},
      query: 'How long do cats sleep?',
      response_mode: 'streaming',
      conversation_id: '',
      user: 'user-1',
      files: [],
    });
  });

  it('sends the conversation inputs over the configured ones', async () => {
    const agent = createDifyAgent({ id: 'dify', baseUrl: dify.baseUrl, apiKey: dify.apiKey, timeouts: FAST, inputs: { lang: 'en', tone: 'formal' } });
    await collect(agent, turn('Hi', [], { inputs: { lang: 'fr', topic: 'cats' } }));
    expect((dify.chats()[0]!.json as { inputs: unknown }).inputs).toEqual({ lang: 'fr', tone: 'formal', topic: 'cats' });
  });

  it('continues the upstream conversation it was given', async () => {
    dify.conversations.add('dify-conv-1');
    const { events } = await collect(agentFor(dify), turn('And dogs?', [], { upstreamConversationId: 'dify-conv-1' }));
    expect((dify.chats()[0]!.json as { conversation_id: string }).conversation_id).toBe('dify-conv-1');
    expect(events.some((e) => e.event === 'agent_thought')).toBe(false);
  });

  it('passes message_replace through', async () => {
    dify.chatScripts.push({
      chunks: [
        ...difyAnswer({ deltas: ['something unsafe'], noEnd: true }),
        sseData({ event: 'message_replace', task_id: 'task-1', message_id: 'm', conversation_id: 'dify-conv-1', answer: 'I cannot answer that.' }),
        ...difyAnswer({ deltas: [] }),
      ],
    });
    const { events } = await collect(agentFor(dify), turn('?', []));
    expect(events).toContainEqual({ event: 'message_replace', answer: 'I cannot answer that.' });
  });

  it('starts a new upstream conversation when Dify no longer knows the old one, and says so', async () => {
    dify.chatScripts.push({ chunks: difyAnswer({ conversationId: 'dify-conv-new', deltas: ['Fresh start.'] }) });
    const { events, answer } = await collect(agentFor(dify), turn('Hello again', [], { upstreamConversationId: 'dify-conv-gone' }));

    expect(answer).toBe('Fresh start.');
    const chats = dify.chats();
    expect(chats.map((c) => (c.json as { conversation_id: string }).conversation_id)).toEqual(['dify-conv-gone', '']);
    const notice = events.findIndex((e) => e.event === 'agent_thought');
    const upstream = events.findIndex((e) => e.event === 'upstream_conversation');
    expect(notice).toBe(0);
    expect((events[notice] as Extract<AgentEvent, { event: 'agent_thought' }>).thought).toMatch(/new one was started/);
    expect(events[upstream]).toEqual({ event: 'upstream_conversation', upstreamConversationId: 'dify-conv-new' });
  });

  it('uploads each file once and reports its upstream id', async () => {
    const notes = file('f-notes', 'notes.md', '# Notes');
    const photo: AgentFile = { id: 'f-photo', name: 'cat.png', mimeType: 'image/png', text: '', upstreamIds: { other: 'x' } };
    const bytes: Record<string, string> = { 'f-notes': '# Notes\n\nraw markdown', 'f-photo': 'PNG-BYTES' };
    const stored: Array<[string, string]> = [];
    const t = turn('Describe these', [notes, photo, notes], {
      fileData: (id) => Promise.resolve(Buffer.from(bytes[id]!)),
      onFileUploaded: async (fileId, upstreamId) => {
        await Promise.resolve();
        stored.push([fileId, upstreamId]);
      },
    });
    await collect(agentFor(dify), t);

    expect(dify.uploads).toEqual([
      { user: 'user-1', fileName: 'notes.md', mimeType: 'text/plain', content: '# Notes\n\nraw markdown', id: 'dify-upload-1' },
      { user: 'user-1', fileName: 'cat.png', mimeType: 'image/png', content: 'PNG-BYTES', id: 'dify-upload-2' },
    ]);
    expect(dify.requests.find((r) => r.path === '/v1/files/upload')!.headers.authorization).toBe(`Bearer ${dify.apiKey}`);
    expect(stored).toEqual([
      ['f-notes', 'dify-upload-1'],
      ['f-photo', 'dify-upload-2'],
    ]);
    expect((dify.chats()[0]!.json as { files: unknown }).files).toEqual([
      { type: 'document', transfer_method: 'local_file', upload_file_id: 'dify-upload-1' },
      { type: 'image', transfer_method: 'local_file', upload_file_id: 'dify-upload-2' },
    ]);

    // The caller stored the ids: the next turn reuses them and uploads nothing.
    const again = turn('And now?', [
      { ...notes, upstreamIds: { dify: 'dify-upload-1' } },
      { ...photo, upstreamIds: { ...photo.upstreamIds, dify: 'dify-upload-2' } },
    ], {
      fileData: () => Promise.reject(new Error('must not be read')),
      onFileUploaded: () => {
        throw new Error('must not be called');
      },
    });
    await collect(agentFor(dify), again);
    expect(dify.uploads).toHaveLength(2);
    expect((dify.chats()[1]!.json as { files: Array<{ upload_file_id: string }> }).files.map((f) => f.upload_file_id)).toEqual([
      'dify-upload-1',
      'dify-upload-2',
    ]);
  });

  it('fails clearly when a file must be uploaded but its content is not available', async () => {
    const { error } = await settle(agentFor(dify), turn('?', [file('f-1', 'a.txt', 'text')]));
    expect((error as Error).message).toMatch(/a\.txt.*fileData/);
    expect(dify.chats()).toHaveLength(0);
  });

  it("turns Dify's error event into a thrown UpstreamError after the partial answer", async () => {
    dify.chatScripts.push({
      chunks: [
        ...difyAnswer({ deltas: ['Part'], noEnd: true }),
        sseData({ event: 'error', task_id: 'task-1', message_id: 'm', status: 400, code: 'completion_request_error', message: 'Model quota exceeded' }),
      ],
    });
    const { deltas, error } = await settle(agentFor(dify), turn('?', []));
    expect(deltas).toEqual(['Part']);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 400, code: 'completion_request_error' });
    expect((error as Error).message).toMatch(/Model quota exceeded/);
    expect(dify.stops).toHaveLength(0);
  });

  it('stop aborts the upstream request within 100 ms and calls the stop endpoint with the task id', async () => {
    dify.chatScripts.push({ chunks: difyAnswer({ taskId: 'task-42', deltas: ['One ', 'two '], noEnd: true }), stall: 'after-chunks' });
    const { events, error, stoppedAt } = await runUntilStopped(agentFor(dify), 'Count', (e) => e.event === 'message' && e.answer === 'two ');
    expect((error as Error).name).toBe('AbortError');
    expect(events.filter((e) => e.event === 'message')).toHaveLength(2);

    const chat = dify.chats()[0]!;
    await waitFor(() => chat.closedAt !== undefined);
    expect(chat.closedEarly).toBe(true);
    expect(chat.closedAt! - stoppedAt).toBeLessThan(100);

    const stop = await waitFor(() => dify.stops[0]);
    expect(stop).toMatchObject({ taskId: 'task-42', body: { user: 'user-1' } });
    expect(dify.requests.find((r) => r.path === '/v1/chat-messages/task-42/stop')!.headers.authorization).toBe(`Bearer ${dify.apiKey}`);
  });

  it('asks Dify to stop the task when the answer times out mid-stream', async () => {
    dify.chatScripts.push({ chunks: difyAnswer({ taskId: 'task-slow', deltas: ['Thinking'], noEnd: true }), stall: 'after-chunks' });
    const agent = createDifyAgent({ baseUrl: dify.baseUrl, apiKey: dify.apiKey, timeouts: { ...FAST, idleTimeoutMs: 100 } });
    const { deltas, error } = await settle(agent, turn('?', []));
    expect(deltas).toEqual(['Thinking']);
    expect(error).toMatchObject({ code: 'idle_timeout' });
    await waitFor(() => dify.stops.find((s) => s.taskId === 'task-slow'));
    expect(dify.stops).toHaveLength(1);
  });

  it('reports whether the app is reachable', async () => {
    await expect(agentFor(dify).checkReachable()).resolves.toBe(true);
    expect(dify.requests.at(-1)!.path).toBe('/v1/parameters');
    const wrongKey = createDifyAgent({ baseUrl: dify.baseUrl, apiKey: 'app-wrong-key-123', timeouts: FAST });
    await expect(wrongKey.checkReachable()).resolves.toBe(false);
    expect(wrongKey.info).toMatchObject({ id: 'dify', type: 'dify' });
    const origin = dify.origin;
    await dify.close();
    await expect(createDifyAgent({ baseUrl: `${origin}/v1`, apiKey: 'k', timeouts: FAST }).checkReachable()).resolves.toBe(false);
    dify = await startFakeDify();
  });
});
