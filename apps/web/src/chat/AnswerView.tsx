import type { Citation, MessageStatus, Usage } from '@colloquy/sdk';
import { useRef } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { Markdown } from './Markdown.tsx';

export interface AnswerLike {
  id: string;
  content: string;
  status: MessageStatus | 'starting';
  usage: Usage | null;
  citations: Citation[];
  error: string | null;
}

/** One answer: Markdown, numbered sources, status, usage, Stop / Retry, the error if any. */
export function AnswerView({ answer, onStop, onRetry }: { answer: AnswerLike; onStop?: (() => void) | undefined; onRetry?: (() => void) | undefined }) {
  const { t } = useI18n();
  const sources = useRef<HTMLOListElement>(null);
  const openCitation = (n: number) => {
    const item = sources.current?.querySelector<HTMLDetailsElement>(`details[data-n="${n}"]`);
    if (!item) return;
    item.open = true;
    item.querySelector('summary')?.focus();
    void item.scrollIntoView?.({ block: 'nearest' });
  };
  const status = answer.status === 'starting' ? 'streaming' : answer.status;
  return (
    <article className="answer" data-status={status} data-message-id={answer.id} aria-busy={status === 'streaming'}>
      <span className="sr-only">{t.assistant}: </span>
      <Markdown text={answer.content} citationCount={answer.citations.length} onCite={openCitation} />
      {answer.error && (
        <p role="alert" className="error">
          {t.error}: {answer.error}
        </p>
      )}
      {answer.citations.length > 0 && (
        <section className="sources" aria-label={t.sources}>
          <h2 className="small">{t.sources}</h2>
          <ol ref={sources}>
            {answer.citations.map((c, i) => (
              <li key={i}>
                <details data-n={i + 1}>
                  <summary>
                    [{i + 1}] {c.fileName} <span className="muted small">({c.score})</span>
                  </summary>
                  <blockquote className="passage">{c.passage}</blockquote>
                  {c.fileId && (
                    <Link href={`/files#file-${encodeURIComponent(c.fileId)}`} className="small">
                      {t.openFile}: {c.fileName}
                    </Link>
                  )}
                </details>
              </li>
            ))}
          </ol>
        </section>
      )}
      <footer className="answer-meta">
        <span className={`status status-${status}`} data-testid="answer-status">
          {t.status[status] ?? status}
        </span>
        {answer.usage && <span className="muted small">{t.tokens(answer.usage.promptTokens, answer.usage.completionTokens, answer.usage.totalTokens)}</span>}
        {onStop && (
          <button type="button" onClick={onStop}>
            ■ {t.stop}
          </button>
        )}
        {onRetry && (
          <button type="button" onClick={onRetry}>
            ↻ {t.retry}
          </button>
        )}
      </footer>
    </article>
  );
}
