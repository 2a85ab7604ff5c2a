import type { ClientEvent, ClientInfo } from '@colloquy/sdk';
import { useEffect, useState } from 'react';
import { useSession } from '../app/session.tsx';

const keyOf = (c: ClientInfo) => `${c.userId}\u0000${c.id}`;

/** Folds a `clients.watch` event into the map of connected clients. */
export function applyClientEvent(clients: ReadonlyMap<string, ClientInfo>, event: ClientEvent): Map<string, ClientInfo> {
  if (event.type === 'snapshot') return new Map(event.clients.map((c) => [keyOf(c), c]));
  const next = new Map(clients);
  if (event.type === 'left') next.delete(keyOf(event.client));
  else next.set(keyOf(event.client), event.client);
  return next;
}

/** The connected clients this session may see, kept live by `clients.watch`. */
export function useClientWatch(): { clients: ClientInfo[]; error: string | null; ready: boolean } {
  const { client } = useSession();
  const [state, setState] = useState<{ clients: Map<string, ClientInfo>; error: string | null; ready: boolean }>({ clients: new Map(), error: null, ready: false });
  useEffect(() => {
    const watch = client.clients.watch();
    let stopped = false;
    void (async () => {
      try {
        for await (const event of watch) {
          if (stopped) break;
          setState((s) => ({ clients: applyClientEvent(s.clients, event), error: null, ready: true }));
        }
      } catch (err) {
        if (!stopped) setState((s) => ({ ...s, error: err instanceof Error ? err.message : String(err) }));
      }
    })();
    return () => {
      stopped = true;
      watch.close();
    };
  }, [client]);
  const clients = [...state.clients.values()].sort((a, b) => a.connectedAt - b.connectedAt);
  return { clients, error: state.error, ready: state.ready };
}
