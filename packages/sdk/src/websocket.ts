/**
 * The little of the WebSocket API the SDK uses, met by the browser's WebSocket and by the `ws`
 * package (Node 20 has no global WebSocket). Node-only code is loaded only when there is no
 * global WebSocket, so browser bundles never include it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: ArrayBufferLike | ArrayBufferView | string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** A WebSocket constructor: the browser's (`new WebSocket(url)`) or one accepting headers (`ws`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) => WebSocketLike;

export interface OpenedSocket {
  socket: WebSocketLike;
  /** Whether the implementation sends headers (then auth goes in headers, not the URL). */
  headers: boolean;
}

/** An HTTP status the server refused the upgrade with (Node only: browsers do not expose it). */
export interface UpgradeRefusal {
  status: number;
  body: string;
}

let nodeImpl: Promise<WebSocketConstructor> | undefined;

async function loadNodeWebSocket(): Promise<WebSocketConstructor> {
  // A computed specifier: bundlers for browsers must not follow it.
  const specifier = ['w', 's'].join('');
  const mod = (await import(/* @vite-ignore */ specifier)) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
  const impl = mod.WebSocket ?? mod.default;
  if (!impl) throw new Error('the `ws` package did not load');
  return impl;
}

/**
 * Opens a socket with the given implementation, the global WebSocket, or `ws` (Node). With a
 * header-capable implementation `headers` are sent; otherwise the caller puts auth in the URL.
 */
export async function openWebSocket(
  url: (headersSupported: boolean) => string,
  headers: Record<string, string>,
  impl: WebSocketConstructor | undefined,
  onRefused: (refusal: UpgradeRefusal) => void,
): Promise<WebSocketLike> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (impl || global) {
    const Ctor = (impl ?? global) as WebSocketConstructor;
    const nodeStyle = impl !== undefined && impl !== global;
    return nodeStyle ? withRefusals(new Ctor(url(true), undefined, { headers }), onRefused) : new Ctor(url(false));
  }
  nodeImpl ??= loadNodeWebSocket();
  const Ctor = await nodeImpl;
  return withRefusals(new Ctor(url(true), undefined, { headers }), onRefused);
}

interface NodeStyleSocket {
  on?(event: 'unexpected-response', listener: (req: unknown, res: NodeResponse) => void): void;
}
interface NodeResponse {
  statusCode?: number;
  on(event: 'data', listener: (chunk: Uint8Array) => void): void;
  on(event: 'end', listener: () => void): void;
}

/** `ws` reports a refused upgrade (401, 404…) as 'unexpected-response': read its status and body. */
function withRefusals(socket: WebSocketLike, onRefused: (refusal: UpgradeRefusal) => void): WebSocketLike {
  (socket as unknown as NodeStyleSocket).on?.('unexpected-response', (_req, res) => {
    const chunks: Uint8Array[] = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const body = new TextDecoder().decode(concat(chunks));
      onRefused({ status: res.statusCode ?? 0, body });
      socket.close();
    });
  });
  return socket;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
