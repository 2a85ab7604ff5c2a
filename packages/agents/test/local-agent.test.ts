import { describe, expect, it } from 'vitest';
import { createLocalAgent, type AgentEvent } from '../src/index.ts';
import { collect, file, turn } from './helpers.ts';

const cats = file(
  'file-cats',
  'cats.txt',
  'Cats are small carnivorous mammals.\n\nDomestic cats sleep between twelve and sixteen hours a day, mostly during daylight.',
);
const rockets = file(
  'file-rockets',
  'rockets.md',
  '# Rockets\n\nA rocket engine burns liquid hydrogen with liquid oxygen to produce thrust.\n\nThe Saturn V carried astronauts to the Moon.',
);
const tea = file(
  'file-tea',
  '茶.txt',
  '绿茶是一种未经发酵的茶，保留了鲜叶中的天然物质。\n\n长城是中国古代的军事防御工程，全长两万多公里。',
);

describe('local agent', () => {
  it('describes itself and is reachable', async () => {
    const agent = createLocalAgent();
    expect(agent.info).toMatchObject({ id: 'local', type: 'local' });
    expect(createLocalAgent({ id: 'offline' }).info.id).toBe('offline');
    await expect(agent.checkReachable()).resolves.toBe(true);
  });

  it('answers from the relevant file and cites it', async () => {
    const { answer, end } = await collect(createLocalAgent(), turn('How many hours do cats sleep?', [rockets, cats]));
    expect(answer).toMatch(/^I found \d relevant passages? in cats\.txt:\n\n\[1\] cats\.txt\n> Domestic cats sleep/);
    expect(answer).toContain('> Domestic cats sleep between twelve and sixteen hours a day');
    expect(answer).not.toContain('rocket');
    expect(end.citations!.every((c) => c.fileId === 'file-cats')).toBe(true);
    const [citation] = end.citations!;
    expect(citation).toMatchObject({ fileId: 'file-cats', fileName: 'cats.txt' });
    expect(citation!.passage).toContain('sixteen hours');
    expect(citation!.score).toBeGreaterThan(0);
    expect(citation!.score).toBe(Math.round(citation!.score * 1000) / 1000);
  });

  it('searches conversation files too and quotes at most maxPassages', async () => {
    const agent = createLocalAgent({ maxPassages: 1 });
    const { end } = await collect(agent, turn('rocket astronauts Moon thrust', [], { conversationFiles: [rockets, cats] }));
    expect(end.citations).toHaveLength(1);
    expect(end.citations![0]!.fileId).toBe('file-rockets');
  });

  it('answers a Chinese query over Chinese text in Chinese', async () => {
    const { answer, end } = await collect(createLocalAgent(), turn('长城有多长？', [cats, tea]));
    expect(answer.startsWith('我在 茶.txt 中找到了 1 段相关内容：')).toBe(true);
    expect(answer).toContain('全长两万多公里');
    expect(end.citations!.map((c) => c.fileId)).toEqual(['file-tea']);
  });

  it('says there are no documents and how to upload them', async () => {
    const en = await collect(createLocalAgent(), turn('What is in my documents?', []));
    expect(en.answer).toContain('no documents');
    expect(en.answer).toContain('POST /upload_files');
    expect(en.answer).toContain('{"file_paths": [...]}');
    expect(en.answer).toContain('files.uploadPaths');
    expect(en.end.citations).toEqual([]);

    const zh = await collect(createLocalAgent(), turn('我的文档里有什么？', []));
    expect(zh.answer).toContain('没有任何文档');
    expect(zh.answer).toContain('POST /upload_files');
  });

  it('says nothing relevant was found, naming the files, and how to upload more', async () => {
    const en = await collect(createLocalAgent(), turn('What is the capital of France?', [cats, rockets]));
    expect(en.answer).toContain("I couldn't find anything relevant");
    expect(en.answer).toContain('cats.txt and rockets.md');
    expect(en.answer).toContain('POST /upload_files');
    expect(en.end.citations).toEqual([]);

    const zh = await collect(createLocalAgent(), turn('今天北京的天气怎么样？', [tea]));
    expect(zh.answer).toContain('没有找到与您的问题相关的内容');
    expect(zh.answer).toContain('POST /upload_files');
  });

  it('says when the attached files have no searchable text', async () => {
    const image = { ...file('file-img', 'photo.png', ''), mimeType: 'image/png' };
    const { answer } = await collect(createLocalAgent(), turn('What is in the photo?', [image]));
    expect(answer).toContain('photo.png');
    expect(answer).toContain('POST /upload_files');
  });

  it('streams several small deltas that concatenate to the answer, then usage', async () => {
    const { events, deltas, answer, end } = await collect(createLocalAgent(), turn('rocket engine thrust', [rockets]));
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.every((d) => d.length > 0 && d.length <= 24)).toBe(true);
    expect(events.slice(0, -1).every((e) => e.event === 'message')).toBe(true);
    expect(answer).toContain('[1] rockets.md\n> # Rockets\n> A rocket engine burns liquid hydrogen');
    const usage = end.usage!;
    expect(usage.promptTokens).toBeGreaterThan(3);
    expect(usage.completionTokens).toBeGreaterThan(10);
    expect(usage.totalTokens).toBe(usage.promptTokens + usage.completionTokens);
  });

  it('never splits a surrogate pair across deltas', async () => {
    const emoji = file('file-emoji', 'emoji.txt', `Party time ${'🎉'.repeat(40)} celebration everywhere.`);
    const { deltas } = await collect(createLocalAgent(), turn('party celebration', [emoji]));
    for (const d of deltas) {
      expect(d).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(deltas.join('')).toContain('🎉'.repeat(40));
  });

  it('is deterministic: the same turn yields identical events', async () => {
    const files = [cats, rockets, tea];
    const a = await collect(createLocalAgent(), turn('cats sleep rocket 长城', files));
    const b = await collect(createLocalAgent(), turn('cats sleep rocket 长城', files));
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
    expect(a.end.citations!.length).toBeGreaterThan(0);
  });

  it('splits long paragraphs into passages of about 400 characters', async () => {
    const filler = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} talks about ordinary things.`);
    filler.splice(20, 0, 'The secret password is swordfish.');
    const long = file('file-long', 'long.txt', filler.join(' '));
    const { end } = await collect(createLocalAgent(), turn('secret password', [long]));
    const passage = end.citations![0]!.passage;
    expect(passage).toContain('The secret password is swordfish.');
    expect(passage.length).toBeLessThanOrEqual(400);
  });

  it('stops promptly on abort and yields nothing afterwards', async () => {
    const controller = new AbortController();
    const agent = createLocalAgent({ deltaDelayMs: 200 });
    const seen: AgentEvent[] = [];
    let abortedAt = 0;
    const run = (async () => {
      for await (const event of agent.run(turn('rocket engine', [rockets], { signal: controller.signal }))) {
        seen.push(event);
        if (seen.length === 2) {
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 20);
        }
      }
    })();
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    const stoppedAfter = performance.now() - abortedAt;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AbortError');
    expect(stoppedAfter).toBeLessThan(50);
    expect(seen).toHaveLength(2);
    expect(seen.every((e) => e.event === 'message')).toBe(true);
  });

  it('throws at once when the signal is already aborted', async () => {
    const signal = AbortSignal.abort();
    const iterator = createLocalAgent().run(turn('cats', [cats], { signal }))[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
