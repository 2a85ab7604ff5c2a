import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { AgentsPage } from '../agents/AgentsPage.tsx';
import { ChatPage } from '../chat/ChatPage.tsx';
import { TurnStoreProvider } from '../chat/turn-context.tsx';
import { ClientsPage } from '../clients/ClientsPage.tsx';
import { ConversationSidebar } from '../conversations/ConversationSidebar.tsx';
import { AttachmentsProvider } from '../files/attachments.tsx';
import { FilesPage } from '../files/FilesPage.tsx';
import { LivePage } from '../live/LivePage.tsx';
import { StandaloneLiveView } from '../live/StandaloneLiveView.tsx';
import { useI18n } from './i18n.tsx';
import { Preferences } from './Preferences.tsx';
import { loadCredentials, SessionProvider, type Credentials } from './session.tsx';
import { SignIn } from './SignIn.tsx';
import { Identity } from './Identity.tsx';

export function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(() => loadCredentials());
  const [location] = useLocation();
  const queryClient = useQueryClient();
  const onSignOut = useCallback(() => setCredentials(undefined), []);

  // The live view of one client is a page of its own (`/live/ID#token=KEY` opens without signing in).
  const standalone = /^\/live\/[^/]+$/.test(location) && !credentials;
  if (standalone) return <StandaloneLiveView />;
  if (!credentials) {
    return (
      <SignIn
        onSignedIn={(c) => {
          queryClient.removeQueries();
          setCredentials(c);
        }}
      />
    );
  }
  return (
    <SessionProvider credentials={credentials} onSignOut={onSignOut}>
      <TurnStoreProvider>
        <AttachmentsProvider>
          <Shell />
        </AttachmentsProvider>
      </TurnStoreProvider>
    </SessionProvider>
  );
}

function Shell() {
  const { t } = useI18n();
  const [location] = useLocation();
  const onChat = location === '/' || location.startsWith('/c/');
  const [sidebarOpen, setSidebarOpen] = useState(false);
  useEffect(() => {
    setSidebarOpen(false);
  }, [location]);
  const links = useMemo(
    () => [
      ['/', t.navChat],
      ['/files', t.navFiles],
      ['/agents', t.navAgents],
      ['/clients', t.navClients],
      ['/live', t.navLive],
    ] as const,
    [t],
  );
  const active = (href: string) => (href === '/' ? onChat : location === href || location.startsWith(`${href}/`));
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t.skipToContent}
      </a>
      <header className="topbar">
        <span className="brand">{t.appName}</span>
        <nav aria-label={t.nav} className="nav">
          {links.map(([href, label]) => (
            <Link key={href} href={href} className={active(href) ? 'active' : ''} aria-current={active(href) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <Identity />
        <Preferences />
      </header>
      <div className={`body ${onChat ? 'with-sidebar' : ''}`}>
        {onChat && (
          <>
            <button type="button" className="sidebar-toggle" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={() => setSidebarOpen((o) => !o)}>
              ☰ {t.conversations}
            </button>
            <ConversationSidebar open={sidebarOpen} />
          </>
        )}
        <main id="main" tabIndex={-1}>
          <Switch>
            <Route path="/">{() => <ChatPage conversationId={undefined} />}</Route>
            <Route path="/c/:id">{(p) => <ChatPage conversationId={decodeURIComponent(p.id)} />}</Route>
            <Route path="/files" component={FilesPage} />
            <Route path="/agents" component={AgentsPage} />
            <Route path="/clients" component={ClientsPage} />
            <Route path="/live">{() => <LivePage clientId={undefined} />}</Route>
            <Route path="/live/:clientId">{(p) => <LivePage clientId={decodeURIComponent(p.clientId)} />}</Route>
            <Route>
              <h1>{t.notFound}</h1>
            </Route>
          </Switch>
        </main>
      </div>
    </div>
  );
}
