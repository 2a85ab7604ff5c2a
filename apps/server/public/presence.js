// Keeps this page listed among the connected clients (GET /get_client_list, clients.list) while
// it is open: a presence subscription (tRPC over SSE) plus a heartbeat at the interval the
// server asks for. Reconnects by itself; the page keeps one client id for its lifetime.
// crypto.randomUUID exists only in secure contexts (https, localhost); getRandomValues everywhere.
const newId = () =>
  crypto.randomUUID?.() ?? [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

export function keepPresence({ kind = 'console', name = document.title, user = () => undefined } = {}) {
  let clientId = newId();
  let connectedAs = null;
  let source;
  let timer;
  let retry;

  const call = (path, input) =>
    fetch(`/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-colloquy-client': clientId },
      body: JSON.stringify(input),
    });

  const stop = () => {
    clearInterval(timer);
    clearTimeout(retry);
    source?.close();
  };

  const connect = () => {
    stop();
    // Another user is another client (its id stays with the previous user until that ends).
    if (connectedAs !== null && connectedAs !== (user() ?? '')) clientId = newId();
    connectedAs = user() ?? '';
    const input = { clientId, kind, name, user: user() };
    source = new EventSource(`/trpc/clients.connect?input=${encodeURIComponent(JSON.stringify(input))}`);
    source.onmessage = (e) => {
      const message = JSON.parse(e.data);
      if (message.type !== 'connected') return;
      clearInterval(timer);
      timer = setInterval(async () => {
        const res = await call('clients.heartbeat', { clientId, user: user() }).catch(() => undefined);
        // 404: the server dropped this client (e.g. the tab slept): register again.
        if (res?.status === 404) connect();
      }, message.heartbeatMs);
    };
    // The browser reconnects a dropped stream by itself; a refused one (an error status) is retried here.
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) retry = setTimeout(connect, 5000);
    };
  };

  connect();
  return {
    get clientId() {
      return clientId;
    },
    reconnect: connect,
    close: stop,
  };
}
