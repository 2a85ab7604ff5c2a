import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { PresenceMessage } from '@colloquy/api';
import { waitFor } from '@colloquy/testing';
import { createTestClient } from './trpc-client.ts';

export type TestClient = ReturnType<typeof createTestClient>;

export interface PresenceHandle {
  clientId: string;
  heartbeatMs: number;
  messages: PresenceMessage[];
  errors: unknown[];
  /** Sends `clients.heartbeat` every `heartbeatMs` until stopped (what the SDK does). */
  startHeartbeats(): void;
  stopHeartbeats(): void;
  close(): void;
}

/** Opens a presence connection (`clients.connect`) and resolves once it is registered. */
export async function connectPresence(
  client: TestClient,
  input: Parameters<TestClient['clients']['connect']['subscribe']>[0] = {},
): Promise<PresenceHandle> {
  const messages: PresenceMessage[] = [];
  const errors: unknown[] = [];
  const sub = client.clients.connect.subscribe(input, {
    onData: (m) => messages.push(m),
    onError: (e) => errors.push(e),
  });
  await waitFor(() => messages.length > 0 || errors.length > 0, 10_000);
  if (errors.length > 0) {
    sub.unsubscribe();
    throw errors[0];
  }
  const first = messages[0] as Extract<PresenceMessage, { type: 'connected' }>;
  let timer: NodeJS.Timeout | undefined;
  const handle: PresenceHandle = {
    clientId: first.clientId,
    heartbeatMs: first.heartbeatMs,
    messages,
    errors,
    startHeartbeats() {
      timer = setInterval(() => {
        client.clients.heartbeat.mutate({ clientId: first.clientId }).catch(() => undefined);
      }, first.heartbeatMs);
    },
    stopHeartbeats() {
      clearInterval(timer);
    },
    close() {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
  return handle;
}


export interface FreezableProxy {
  url: string;
  /**
   * Stops forwarding in both directions without closing anything: to both ends the peer looks
   * alive but silent, as after a network partition or a suspended laptop. New connections are
   * accepted and never answered either.
   */
  freeze(): void;
  close(): Promise<void>;
}

/** A TCP proxy whose connections can be frozen (see `freeze`); tooling's proxy can only cut them. */
export async function startFreezableProxy(target: string): Promise<FreezableProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  let frozen = false;
  const server: Server = createServer((client) => {
    if (frozen) {
      // Accepted but never answered: requests sent now hang like the rest.
      client.pause();
      held.add(client);
      return;
    }
    const upstream = connect(Number(port), hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      for (const s of held) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
