import { createClient, type ColloquyClient, type WhoAmI } from '@colloquy/sdk';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** What the user signed in with, kept in localStorage (this browser only). */
export interface Credentials {
  apiKey?: string | undefined;
  /** The user to act as: open mode, or an admin acting for a user. */
  user?: string | undefined;
}

const STORAGE_KEY = 'colloquy.session';

export function loadCredentials(): Credentials | undefined {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Credentials;
    return { apiKey: parsed.apiKey || undefined, user: parsed.user || undefined };
  } catch {
    return undefined;
  }
}

/** An SDK client for the page's own server. `presence`: list this tab among the connected clients. */
export function clientFor(credentials: Credentials, presence: boolean): ColloquyClient {
  return createClient({
    baseUrl: location.origin,
    apiKey: credentials.apiKey,
    user: credentials.user,
    ...(presence ? { kind: 'web', name: 'Colloquy web', metadata: { userAgent: navigator.userAgent.slice(0, 200) } } : {}),
  });
}

interface Session {
  credentials: Credentials;
  client: ColloquyClient;
  /** Who the server says this client is (undefined while it answers). */
  me: WhoAmI | undefined;
  signIn(credentials: Credentials): void;
  signOut(): void;
  /** Act as another user (open mode, or an admin key); undefined: every user. */
  actAs(user: string | undefined): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ credentials: initial, onSignOut, children }: { credentials: Credentials; onSignOut(): void; children: ReactNode }) {
  const [credentials, setCredentials] = useState(initial);
  const queryClient = useQueryClient();
  const client = useMemo(() => clientFor(credentials, true), [credentials]);
  // One presence connection per tab: the previous client leaves the list at once.
  useEffect(() => () => void client.close(), [client]);
  const me = useQuery({ queryKey: ['whoami'], queryFn: () => client.whoami() });

  const save = useCallback(
    (c: Credentials) => {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(c));
      // Everything cached was another identity's view.
      queryClient.removeQueries();
      setCredentials(c);
    },
    [queryClient],
  );
  const value = useMemo<Session>(
    () => ({
      credentials,
      client,
      me: me.data,
      signIn: save,
      signOut: () => {
        localStorage.removeItem(STORAGE_KEY);
        queryClient.removeQueries();
        onSignOut();
      },
      actAs: (user) => save({ ...credentials, user: user || undefined }),
    }),
    [credentials, client, me.data, save, queryClient, onSignOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export const saveCredentials = (c: Credentials) => localStorage.setItem(STORAGE_KEY, JSON.stringify(c));
