// Preloaded (`node --import`) into the peer gateway's process by the benchmarks: it may listen
// and connect on the loopback interface only. Any attempt to reach another host fails at once,
// before DNS, so the peer can never talk to the internet from here.
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1']);

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function guardedListen(...args) {
  const first = args[0];
  if (typeof first === 'object' && first !== null && !('path' in first) && !('fd' in first) && !('handle' in first) && !('_handle' in first)) {
    args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string' || args[1] === undefined || args[1] === null) args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host;
  if (typeof first === 'object' && first !== null) host = first.path ? undefined : (first.host ?? 'localhost');
  else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) host = typeof args[1] === 'string' ? args[1] : 'localhost';
  if (host !== undefined && !LOOPBACK.has(String(host).replace(/^\[|\]$/g, ''))) {
    const err = new Error(`loopback-guard: connection to ${host} refused (benchmarks stay on 127.0.0.1)`);
    err.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};
