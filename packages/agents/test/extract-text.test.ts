import { describe, expect, it } from 'vitest';
import { extractText, guessMimeType, isTextExtractable } from '../src/index.ts';

const extract = (name: string, content: string | Buffer, mimeType = guessMimeType(name)): string =>
  extractText({ name, mimeType, data: typeof content === 'string' ? Buffer.from(content, 'utf8') : content });

describe('extractText', () => {
  it('decodes .txt as UTF-8 and strips the BOM', () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo 世界\r\nsecond line', 'utf8')]);
    expect(extract('notes.txt', data)).toBe('héllo 世界\nsecond line');
  });

  it('keeps markdown text and drops link and image targets', () => {
    const md = '# Title\n\nSee [the docs](https://example.com/docs) ![diagram](img/d.png).\n';
    expect(extract('readme.md', md)).toBe('# Title\n\nSee the docs diagram.');
  });

  it('turns csv rows into lines with cells joined by ", "', () => {
    const csv = 'name,city,note\r\nAda,London,"likes ""tea"", cake"\n\nBob,"New\nYork",\n';
    expect(extract('people.csv', csv)).toBe('name, city, note\nAda, London, likes "tea", cake\nBob, New York');
  });

  it('flattens nested json into key.path: value lines', () => {
    const json = JSON.stringify({ project: { name: 'Colloquy', tags: ['chat', 'agents'], stars: 5, meta: { ok: true, none: null } } });
    expect(extract('data.json', json)).toBe(
      [
        'project.name: Colloquy',
        'project.tags[0]: chat',
        'project.tags[1]: agents',
        'project.stars: 5',
        'project.meta.ok: true',
        'project.meta.none: null',
      ].join('\n'),
    );
  });

  it('falls back to the raw text for invalid json', () => {
    expect(extract('broken.json', '{"a": 1,, oops')).toBe('{"a": 1,, oops');
  });

  it('extracts html text, ignoring script, style, image sources and link targets', () => {
    const html = `<!doctype html><html><head><title>Page</title><style>p { color: red }</style>
      <script>alert("x")</script></head><body><h1>Welcome</h1>
      <p>Read the <a href="https://example.com/guide">guide</a> <img src="logo.png" alt="logo">now.</p></body></html>`;
    const text = extract('page.html', html);
    expect(text).toContain('Welcome');
    expect(text).toContain('Read the guide');
    expect(text).not.toMatch(/alert|color|example\.com|logo\.png/);
    expect(extract('page.htm', '<p>short</p>')).toBe('short');
  });

  it('returns an empty string for binary and unknown types', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]);
    expect(extract('image.png', png)).toBe('');
    expect(extract('blob.bin', png, 'application/octet-stream')).toBe('');
    expect(extract('report.pdf', '%PDF-1.7 text-looking')).toBe('');
    // Declared text but really binary.
    expect(extract('mislabelled.txt', png)).toBe('');
  });

  it('never throws on bad input', () => {
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0xfd, 0x41]);
    expect(() => extract('bad.txt', invalidUtf8)).not.toThrow();
    expect(extract('bad.txt', invalidUtf8)).toContain('A');
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => extract('deep.json', deep)).not.toThrow();
    expect(extract('empty.csv', '')).toBe('');
  });
});

describe('guessMimeType / isTextExtractable', () => {
  it('maps common extensions', () => {
    expect(guessMimeType('a.txt')).toBe('text/plain');
    expect(guessMimeType('A.MD')).toBe('text/markdown');
    expect(guessMimeType('a.csv')).toBe('text/csv');
    expect(guessMimeType('a.json')).toBe('application/json');
    expect(guessMimeType('a.htm')).toBe('text/html');
    expect(guessMimeType('a.pdf')).toBe('application/pdf');
    expect(guessMimeType('a.jpeg')).toBe('image/jpeg');
    expect(guessMimeType('dir.v2/a.docx')).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(guessMimeType('Makefile')).toBe('application/octet-stream');
  });

  it('decides by extension first, then by mime type', () => {
    expect(isTextExtractable('a.md', 'application/octet-stream')).toBe(true);
    expect(isTextExtractable('upload', 'text/csv; charset=utf-8')).toBe(true);
    expect(isTextExtractable('script.py', 'text/x-python')).toBe(true);
    expect(isTextExtractable('photo.png', 'text/plain')).toBe(false);
    expect(isTextExtractable('upload', 'application/octet-stream')).toBe(false);
  });
});
