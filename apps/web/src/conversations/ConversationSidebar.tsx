import type { Conversation } from '@colloquy/sdk';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';

const PAGE = 30;
/** While searching, pages are read ahead until this many conversations are loaded. */
const SEARCH_READ_AHEAD = 600;

/**
 * The conversation list: newest first, loaded page by page as it scrolls; filtered by manager
 * id on the server, searched by name among the loaded conversations (reading more pages while
 * a search runs: the API lists by recency and has no name search).
 */
export function ConversationSidebar({ open }: { open: boolean }) {
  const { t } = useI18n();
  const { client } = useSession();
  const [search, setSearch] = useState('');
  const [managerId, setManagerId] = useState('');
  const [location] = useLocation();
  const selected = location.startsWith('/c/') ? decodeURIComponent(location.slice(3)) : undefined;
  const list = useInfiniteQuery({
    queryKey: ['conversations', managerId.trim()],
    queryFn: ({ pageParam }) => client.conversations.list({ limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}), ...(managerId.trim() ? { managerId: managerId.trim() } : {}) }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const all = list.data?.pages.flatMap((p) => p.items) ?? [];
  const needle = search.trim().toLowerCase();
  const shown = needle ? all.filter((c) => c.name.toLowerCase().includes(needle)) : all;

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    if (needle && hasNextPage && !isFetchingNextPage && all.length < SEARCH_READ_AHEAD) void fetchNextPage();
  }, [needle, hasNextPage, isFetchingNextPage, all.length, fetchNextPage]);

  const sentinel = useRef<HTMLLIElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <aside id="sidebar" className={`sidebar ${open ? 'open' : ''}`} aria-label={t.conversations}>
      <Link href="/" className="button primary new-conversation">
        + {t.newConversation}
      </Link>
      <label className="field">
        <span className="sr-only">{t.searchConversations}</span>
        <input type="search" placeholder={t.searchConversations} aria-label={t.searchConversations} value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <label className="field">
        <span className="sr-only">{t.managerFilter}</span>
        <input placeholder={t.managerFilter} aria-label={t.managerFilter} value={managerId} onChange={(e) => setManagerId(e.target.value)} />
      </label>
      {list.isError && (
        <p role="alert" className="error">
          {String(list.error.message)}
        </p>
      )}
      <ul className="conversations" data-testid="conversation-list">
        {shown.map((c) => (
          <ConversationItem key={`${c.userId}/${c.id}`} conversation={c} selected={c.id === selected} />
        ))}
        {list.isSuccess && shown.length === 0 && <li className="muted">{t.noConversations}</li>}
        {hasNextPage && (
          <li ref={sentinel}>
            <button type="button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
              {isFetchingNextPage ? t.loading : t.loadMore}
            </button>
          </li>
        )}
      </ul>
    </aside>
  );
}

function ConversationItem({ conversation: c, selected }: { conversation: Conversation; selected: boolean }) {
  const { t } = useI18n();
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState<'view' | 'rename' | 'delete'>('view');
  const [name, setName] = useState(c.name);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['conversations'] });
  const rename = useMutation({
    mutationFn: (n: string) => client.conversations.rename(c.id, n),
    onSuccess: async () => {
      setMode('view');
      await refresh();
      await queryClient.invalidateQueries({ queryKey: ['conversation', c.id] });
    },
  });
  const remove = useMutation({
    mutationFn: () => client.conversations.delete(c.id),
    onSuccess: async () => {
      if (selected) navigate('/');
      await refresh();
    },
  });
  const submitRename = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) rename.mutate(name.trim());
  };
  const label = c.name || c.id;
  return (
    <li className={`conversation ${selected ? 'selected' : ''}`}>
      {mode === 'rename' ? (
        <form onSubmit={submitRename} className="row">
          <label className="grow">
            <span className="sr-only">{t.renameTo}</span>
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} aria-label={t.renameTo} />
          </label>
          <button type="submit">{t.save}</button>
          <button type="button" onClick={() => setMode('view')}>
            {t.cancel}
          </button>
        </form>
      ) : mode === 'delete' ? (
        <div className="row confirm" role="group" aria-label={t.confirmDelete(label)}>
          <span className="grow">{t.confirmDelete(label)}</span>
          <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
            {t.delete}
          </button>
          <button type="button" onClick={() => setMode('view')} autoFocus>
            {t.cancel}
          </button>
        </div>
      ) : (
        <div className="row">
          <Link href={`/c/${encodeURIComponent(c.id)}`} className="grow title" aria-current={selected ? 'page' : undefined}>
            {label}
          </Link>
          <button type="button" className="icon" title={t.rename} aria-label={`${t.rename}: ${label}`} onClick={() => setMode('rename')}>
            ✎
          </button>
          <button type="button" className="icon" title={t.delete} aria-label={`${t.delete}: ${label}`} onClick={() => setMode('delete')}>
            ✕
          </button>
        </div>
      )}
      {(rename.error ?? remove.error) && (
        <p role="alert" className="error">
          {(rename.error ?? remove.error)?.message}
        </p>
      )}
    </li>
  );
}
