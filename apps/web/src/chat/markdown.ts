import hljs from 'highlight.js/lib/common';
import MarkdownIt, { type StateInline } from 'markdown-it';

/**
 * The model's answer as HTML. markdown-it with `html: false` escapes every tag the text holds
 * (so no HTML from a model is ever interpreted, let alone executed), and its link validator
 * refuses `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs. Code blocks are
 * highlighted by highlight.js, whose output escapes the code it wraps.
 *
 * `[n]` where n names one of the answer's citations becomes a numbered reference button
 * (`data-cite="n"`); the chat view opens that citation when it is clicked.
 */
export function createMarkdown(): (text: string, citationCount: number) => string {
  const md = new MarkdownIt({
    html: false,
    linkify: true,
    breaks: true,
    highlight(code, language) {
      try {
        const value = language && hljs.getLanguage(language) ? hljs.highlight(code, { language, ignoreIllegals: true }).value : hljs.highlightAuto(code).value;
        return `<pre class="hljs"><code>${value}</code></pre>`;
      } catch {
        return '';
      }
    },
  });

  md.inline.ruler.before('link', 'citation', (state: StateInline, silent: boolean) => {
    const src = state.src.slice(state.pos);
    const match = /^\[(\d{1,3})\](?!\()/.exec(src);
    if (!match) return false;
    const n = Number(match[1]);
    const count = (state.env as { citationCount?: number }).citationCount ?? 0;
    if (n < 1 || n > count) return false;
    if (!silent) {
      const token = state.push('citation_ref', '', 0);
      token.meta = { n };
    }
    state.pos += match[0].length;
    return true;
  });
  md.renderer.rules.citation_ref = (tokens, idx) => {
    const n = Number((tokens[idx]?.meta as { n: number }).n);
    return `<button type="button" class="cite" data-cite="${n}" aria-label="source ${n}">[${n}]</button>`;
  };
  // Links leave the app in a new tab, without handing it this page.
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx]?.attrSet('target', '_blank');
    tokens[idx]?.attrSet('rel', 'noopener noreferrer');
    return defaultLink(tokens, idx, options, env, self);
  };

  return (text, citationCount) => md.render(text, { citationCount });
}

let shared: ReturnType<typeof createMarkdown> | undefined;

/** The app's one renderer. */
export function renderMarkdown(text: string, citationCount = 0): string {
  shared ??= createMarkdown();
  return shared(text, citationCount);
}
