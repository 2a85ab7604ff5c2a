import { useEffect, useMemo } from 'react';
import { useLocation } from 'wouter';
import { useI18n } from '../app/i18n.tsx';
import { clientFor } from '../app/session.tsx';
import { LiveViewer } from './LiveViewer.tsx';

/**
 * `/live/ID` opened without signing in (a link handed to a screen): the viewer alone. A key
 * comes as `#token=KEY` (kept out of server logs and Referer), a user as `?user=NAME`.
 */
export function StandaloneLiveView() {
  const { t } = useI18n();
  const [location] = useLocation();
  const clientId = decodeURIComponent(location.slice('/live/'.length));
  const client = useMemo(() => {
    const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? undefined;
    const user = new URLSearchParams(window.location.search).get('user') ?? undefined;
    return clientFor({ apiKey: token, user }, false);
  }, []);
  useEffect(() => () => void client.close(), [client]);
  return (
    <main id="main" className="standalone-live">
      <h1 className="sr-only">
        {t.liveVideo}: {clientId}
      </h1>
      <LiveViewer client={client} clientId={clientId} />
    </main>
  );
}
