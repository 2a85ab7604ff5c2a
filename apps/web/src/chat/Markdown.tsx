import { memo, useMemo, type MouseEvent } from 'react';
import { renderMarkdown } from './markdown.ts';

/**
 * Rendered Markdown. The HTML comes from `renderMarkdown`, which escapes any HTML in the text,
 * so setting it is safe; citation buttons report their number through `onCite`.
 */
export const Markdown = memo(function Markdown({ text, citationCount = 0, onCite }: { text: string; citationCount?: number; onCite?: (n: number) => void }) {
  const html = useMemo(() => renderMarkdown(text, citationCount), [text, citationCount]);
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const target = (e.target as HTMLElement).closest<HTMLElement>('button.cite');
    if (target && onCite) onCite(Number(target.dataset.cite));
  };
  // eslint-disable-next-line react/no-danger -- escaped by markdown-it (html: false)
  return <div className="markdown" onClick={onClick} dangerouslySetInnerHTML={{ __html: html }} />;
});
