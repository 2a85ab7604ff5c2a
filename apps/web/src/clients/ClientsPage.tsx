import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';
import { useClientWatch } from './use-client-watch.ts';

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** Everyone connected right now (`clients.watch`): live count and table. */
export function ClientsPage() {
  const { t } = useI18n();
  const { client } = useSession();
  const { clients, error, ready } = useClientWatch();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section className="page">
      <h1>{t.clients}</h1>
      <p className="count" role="status" data-testid="client-count" data-count={ready ? clients.length : undefined}>
        {ready ? t.clientCount(clients.length) : t.loading}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t.clients}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t.kind}</th>
              <th scope="col">{t.name}</th>
              <th scope="col">{t.user}</th>
              <th scope="col">{t.ip}</th>
              <th scope="col">{t.connectedFor}</th>
              <th scope="col">{t.openStreams}</th>
              <th scope="col">{t.publishing}</th>
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr key={`${c.userId}/${c.id}`}>
                <td>{c.kind}</td>
                <td>
                  {c.name ?? c.id.slice(0, 8)} {c.id === client.clientId && <span className="muted small">{t.thisTab}</span>}
                </td>
                <td>{c.userId}</td>
                <td>{c.ip ?? '–'}</td>
                <td>{duration(now - c.connectedAt)}</td>
                <td>{c.openStreams}</td>
                <td>
                  {c.publishing ? (
                    <Link href={`/live/${encodeURIComponent(c.id)}`}>
                      {t.yes} — {t.watch}
                    </Link>
                  ) : (
                    t.no
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
