import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';
import { formatBytes, useAttachments } from './attachments.tsx';
import { FileDrop } from './FileDrop.tsx';

export function FilesPage() {
  const { t, locale } = useI18n();
  const { client } = useSession();
  const queryClient = useQueryClient();
  const attachments = useAttachments();
  const files = useInfiniteQuery({
    queryKey: ['files'],
    queryFn: ({ pageParam }) => client.files.list({ limit: 100, ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['files'] });
  const remove = useMutation({ mutationFn: (id: string) => client.files.delete(id), onSuccess: refresh });
  const [paths, setPaths] = useState('');
  const byPath = useMutation({
    mutationFn: (list: string[]) => client.files.uploadPaths(list),
    onSuccess: async () => {
      setPaths('');
      await refresh();
    },
  });
  const submitPaths = (e: FormEvent) => {
    e.preventDefault();
    const list = paths.split('\n').map((p) => p.trim()).filter(Boolean);
    if (list.length > 0) byPath.mutate(list);
  };
  const all = files.data?.pages.flatMap((p) => p.items) ?? [];
  const hash = typeof location !== 'undefined' ? decodeURIComponent(location.hash.slice(1)) : '';
  const attachedIds = new Set(attachments.files.map((f) => f.id));
  return (
    <section className="page">
      <h1>{t.files}</h1>
      <FileDrop onUploaded={attachments.attach} />
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t.files}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t.fileName}</th>
              <th scope="col">{t.fileSize}</th>
              <th scope="col">{t.fileType}</th>
              <th scope="col">{t.fileAdded}</th>
              <th scope="col">
                <span className="sr-only">{t.attach}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {all.map((f) => (
              <tr key={f.id} id={`file-${f.id}`} className={hash === `file-${f.id}` ? 'highlight' : ''}>
                <td>{f.name}</td>
                <td>{formatBytes(f.size)}</td>
                <td>{f.mimeType}</td>
                <td>{new Date(f.createdAt).toLocaleString(locale)}</td>
                <td className="actions">
                  <button
                    type="button"
                    aria-pressed={attachedIds.has(f.id)}
                    onClick={() => (attachedIds.has(f.id) ? attachments.detach(f.id) : attachments.attach(f))}
                  >
                    {attachedIds.has(f.id) ? `✓ ${t.attachedShort}` : t.attach}
                  </button>
                  <button type="button" className="danger" aria-label={`${t.delete}: ${f.name}`} onClick={() => remove.mutate(f.id)}>
                    {t.delete}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {files.isSuccess && all.length === 0 && <p className="muted">{t.noFiles}</p>}
        {files.hasNextPage && (
          <button type="button" onClick={() => void files.fetchNextPage()}>
            {t.loadMore}
          </button>
        )}
      </div>
      <form onSubmit={submitPaths} className="stack">
        <h2>{t.uploadByPath}</h2>
        <label>
          {t.uploadByPathHint}
          <textarea rows={3} value={paths} onChange={(e) => setPaths(e.target.value)} placeholder="file1.txt" />
        </label>
        <button type="submit" disabled={byPath.isPending}>
          {t.upload}
        </button>
        {byPath.error && (
          <p role="alert" className="error">
            {byPath.error.message}
          </p>
        )}
      </form>
      {remove.error && (
        <p role="alert" className="error">
          {remove.error.message}
        </p>
      )}
    </section>
  );
}
