import { Link } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';
import { useClientWatch } from '../clients/use-client-watch.ts';
import { LiveViewer } from './LiveViewer.tsx';
import { Publisher } from './Publisher.tsx';

/** Publishers, the viewer of the selected one, and this tab's own publishing controls. */
export function LivePage({ clientId }: { clientId: string | undefined }) {
  const { t } = useI18n();
  const { client } = useSession();
  const { clients } = useClientWatch();
  const publishers = clients.filter((c) => c.publishing);
  return (
    <section className="page live-page">
      <h1>{t.liveVideo}</h1>
      <div className="live-grid">
        <div>
          {clientId ? <LiveViewer client={client} clientId={clientId} /> : null}
          <h2>{t.publishers}</h2>
          {publishers.length === 0 && <p className="muted">{t.noPublishers}</p>}
          <ul data-testid="publishers">
            {publishers.map((c) => (
              <li key={`${c.userId}/${c.id}`}>
                <Link href={`/live/${encodeURIComponent(c.id)}`} aria-current={c.id === clientId ? 'page' : undefined}>
                  {c.name ?? c.kind} · {c.userId} · <code>{c.id.slice(0, 8)}</code>
                  {c.id === client.clientId ? ` ${t.thisTab}` : ''}
                </Link>
              </li>
            ))}
          </ul>
        </div>
        <Publisher />
      </div>
    </section>
  );
}
