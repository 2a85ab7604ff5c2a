import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/chat/markdown.ts';

describe('renderMarkdown', () => {
  it('renders Markdown: headings, lists, quotes, emphasis, tables of contents stay text', () => {
    const html = renderMarkdown('# Title\n\n- one\n- **two**\n\n> quoted line');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toMatch(/<li>one<\/li>\s*<li><strong>two<\/strong><\/li>/);
    expect(html).toMatch(/<blockquote>\s*<p>quoted line<\/p>\s*<\/blockquote>/);
  });

  it('never passes HTML from the text through: tags, attributes and scripts come out escaped', () => {
    const evil = '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n<a href="javascript:alert(3)">x</a> <iframe src="//evil"></iframe>';
    const html = renderMarkdown(evil);
    expect(html).not.toMatch(/<script|<img|<iframe|<a /);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('refuses javascript: and data: links in Markdown syntax; other links open in a new tab without the opener', () => {
    expect(renderMarkdown('[a](javascript:alert(1)) [b](data:text/html;base64,PHNjcmlwdD4=)')).not.toMatch(/href="(javascript|data):/);
    expect(renderMarkdown('[docs](https://example.com/x)')).toContain('<a href="https://example.com/x" target="_blank" rel="noopener noreferrer">docs</a>');
  });

  it('highlights fenced code by language, escaping the code itself', () => {
    const html = renderMarkdown('```js\nconst a = "<b>";\n```');
    expect(html).toContain('<pre class="hljs"><code>');
    expect(html).toContain('<span class="hljs-keyword">const</span>');
    expect(html).toContain('&lt;b&gt;');
    expect(html).not.toContain('<b>');
    // Unknown languages are detected automatically, still escaped.
    expect(renderMarkdown('```nosuchlang\n<i>x</i>\n```')).not.toContain('<i>');
  });

  it('turns [n] into a numbered reference only when the answer has a citation n', () => {
    const text = 'Cats sleep a lot [1], dogs less [2]; see [3] and [link](https://example.com).';
    const html = renderMarkdown(text, 2);
    expect(html).toContain('<button type="button" class="cite" data-cite="1" aria-label="source 1">[1]</button>');
    expect(html).toContain('data-cite="2"');
    expect(html).not.toContain('data-cite="3"');
    expect(html).toContain('[3]');
    expect(renderMarkdown(text, 0)).not.toContain('class="cite"');
    // The local agent's answers: "[1] file.txt" then the quoted passage.
    expect(renderMarkdown('Found in a.txt.\n\n[1] a.txt\n> Cats sleep sixteen hours.', 1)).toMatch(/data-cite="1"[^]*<blockquote>/);
  });
});
