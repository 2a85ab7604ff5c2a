import type { Message } from '@colloquy/sdk';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useLocation } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';
import { AgentPicker } from '../agents/AgentPicker.tsx';
import { useAttachments } from '../files/attachments.tsx';
import { FileDrop } from '../files/FileDrop.tsx';
import { AnswerView, type AnswerLike } from './AnswerView.tsx';
import { useLiveTurn, useTurnStore } from './turn-context.tsx';

/** One conversation (or, without an id, a new one): its messages, the live answer, the composer. */
export function ChatPage({ conversationId }: { conversationId: string | undefined }) {
  const { t } = useI18n();
  const { client } = useSession();
  const store = useTurnStore();
  const [, navigate] = useLocation();
  const attachments = useAttachments();
  const live = useLiveTurn(conversationId);
  const [agent, setAgent] = useState<string | undefined>(undefined);

  const conversation = useQuery({
    queryKey: ['conversation', conversationId],
    enabled: conversationId !== undefined,
    queryFn: () => client.conversations.get(conversationId!),
    retry: false,
  });
  const messages = useQuery({
    queryKey: ['messages', conversationId],
    enabled: conversationId !== undefined,
    queryFn: async () => (await client.messages.list(conversationId!, { limit: 100, fromEnd: true })).items,
    // An answer another tab (or an earlier page) is generating: poll until it ends.
    refetchInterval: (q) => (q.state.data?.some((m) => m.status === 'streaming' && m.id !== live?.messageId) ? 1000 : false),
  });

  // A finished live answer gives way to the stored one once the list shows it ended.
  useEffect(() => {
    if (!live || !conversationId || store.running(conversationId)) return;
    const stored = messages.data?.find((m) => m.id === live.messageId);
    if (stored && stored.status !== 'streaming') store.forget(conversationId);
  }, [live, messages.data, conversationId, store]);

  const send = (query: string, files: string[]) => {
    const id = conversationId ?? crypto.randomUUID();
    store.start(client, { conversationId: id, query, files, agent: conversationId ? undefined : agent });
    if (!conversationId) navigate(`/c/${encodeURIComponent(id)}`);
  };

  const stored = messages.data ?? [];
  const items = mergeLive(stored, live);
  const running = conversationId !== undefined && live !== undefined && (live.status === 'starting' || live.status === 'streaming');
  const title = conversationId === undefined ? t.newConversation : conversation.data?.name || live?.query || conversationId;

  const bottom = useRef<HTMLDivElement>(null);
  const lastText = items.at(-1)?.content.length ?? 0;
  useEffect(() => {
    // (Chromium's scrollIntoView returns a promise now: never hand it to React as a cleanup.)
    void bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [items.length, lastText]);

  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-header">
        <h1 id="chat-title">{title}</h1>
        {conversationId === undefined ? (
          <AgentPicker value={agent} onChange={setAgent} />
        ) : (
          conversation.data && (
            <span className="badge" data-testid="conversation-agent">
              {t.agent}: {conversation.data.agentId}
            </span>
          )
        )}
      </header>
      <FileDrop className="chat-drop" onUploaded={attachments.attach}>
        <ol className="messages" aria-live="polite" aria-relevant="additions">
          {items.length === 0 && <li className="muted">{t.emptyChat}</li>}
          {items.map((m, i) =>
            m.role === 'user' ? (
              <li key={m.id} className="message user">
                <span className="sr-only">{t.you}: </span>
                <p className="user-text">{m.content}</p>
                {m.fileIds.length > 0 && <p className="muted small">{t.files}: {m.fileIds.length}</p>}
              </li>
            ) : (
              <li key={m.id} className="message assistant">
                <AnswerView
                  answer={m}
                  onStop={
                    m.status === 'streaming' || m.status === 'starting'
                      ? // This tab's own turn (its start may still be on the way), or one another tab started.
                        () => void (store.running(conversationId!) ? store.stop(conversationId!) : client.stop(m.id))
                      : undefined
                  }
                  onRetry={
                    !running && i === items.length - 1 && m.status !== 'streaming' && m.status !== 'starting'
                      ? () => {
                          const question = items[i - 1];
                          if (question?.role === 'user') send(question.content, question.fileIds);
                        }
                      : undefined
                  }
                />
              </li>
            ),
          )}
        </ol>
        <div ref={bottom} />
      </FileDrop>
      <Composer disabled={running} onSend={send} />
    </section>
  );
}

type Item = (Pick<Message, 'id' | 'content' | 'fileIds'> & { role: 'user' }) | (AnswerLike & { role: 'assistant' });

/** The stored messages, with the live answer (and its question, until stored) in place of its stored copy. */
function mergeLive(stored: Message[], live: ReturnType<typeof useLiveTurn>): Item[] {
  const items: Item[] = stored.map((m) => (m.role === 'user' ? { ...m, role: 'user' as const } : { ...m, role: 'assistant' as const }));
  if (!live) return items;
  const liveAnswer: Item = {
    role: 'assistant',
    id: live.messageId,
    content: live.answer,
    status: live.status,
    usage: live.usage,
    citations: live.citations,
    error: live.error,
  };
  const at = items.findIndex((m) => m.id === live.messageId);
  if (at >= 0) {
    items[at] = liveAnswer;
    return items;
  }
  return [...items, { role: 'user', id: `${live.messageId}:query`, content: live.query, fileIds: live.files }, liveAnswer];
}

function Composer({ disabled, onSend }: { disabled: boolean; onSend: (query: string, files: string[]) => void }) {
  const { t } = useI18n();
  const attachments = useAttachments();
  const [text, setText] = useState('');
  const submit = () => {
    const query = text.trim();
    if (!query || disabled) return;
    onSend(
      query,
      attachments.files.map((f) => f.id),
    );
    attachments.clear();
    setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is neither.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {attachments.files.length > 0 && (
        <ul className="chips" aria-label={t.attached}>
          {attachments.files.map((f) => (
            <li key={f.id} className="chip">
              {f.name}
              <button type="button" className="icon" aria-label={`${t.detach}: ${f.name}`} onClick={() => attachments.detach(f.id)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row">
        <label className="grow">
          <span className="sr-only">{t.question}</span>
          <textarea rows={2} value={text} placeholder={t.askPlaceholder} aria-label={t.question} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} />
        </label>
        <button type="submit" className="primary" disabled={disabled || !text.trim()}>
          {t.send}
        </button>
      </div>
    </form>
  );
}
