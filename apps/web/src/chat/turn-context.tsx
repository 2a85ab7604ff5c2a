import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useSession } from '../app/session.tsx';
import type { LiveTurn } from './turn-resume.ts';
import { TurnStore } from './turn-store.ts';

const TurnStoreContext = createContext<TurnStore | null>(null);

/** One TurnStore per signed-in session; it resumes the answers a reload interrupted. */
export function TurnStoreProvider({ children }: { children: ReactNode }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [store] = useState(
    () =>
      new TurnStore(sessionStorage, (turn) => {
        void queryClient.invalidateQueries({ queryKey: ['messages', turn.conversationId] });
        void queryClient.invalidateQueries({ queryKey: ['conversations'] });
        // A new conversation exists now (and is named after its first question).
        void queryClient.invalidateQueries({ queryKey: ['conversation', turn.conversationId] });
      }),
  );
  useEffect(() => {
    store.resumePending(client);
    return () => store.detachAll();
  }, [store, client]);
  return <TurnStoreContext.Provider value={store}>{children}</TurnStoreContext.Provider>;
}

export function useTurnStore(): TurnStore {
  const store = useContext(TurnStoreContext);
  if (!store) throw new Error('useTurnStore outside TurnStoreProvider');
  return store;
}

/** The live answer of a conversation, if this tab follows one. */
export function useLiveTurn(conversationId: string | undefined): LiveTurn | undefined {
  const store = useTurnStore();
  const turns = useSyncExternalStore(store.subscribe, store.snapshot);
  return conversationId === undefined ? undefined : turns.get(conversationId);
}
