import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { fetchText, keepAliveAgent } from './lib/http.ts';
import { cpuMs, killAll } from './lib/procs.ts';
import { startMock, startColloquy } from './lib/targets.ts';
const mock = await startMock();
const c = await startColloquy({ mockUrl: mock.url });
const a = keepAliveAgent();
const body = () => JSON.stringify({ query: 'What is the refund policy?', response_mode: 'blocking', user: 'b', conversation_id: randomUUID() });
for (let i = 0; i < 500; i++) await fetchText(a, { method: 'POST', url: `${c.url}/converse`, body: body() });
let c0 = cpuMs(c.pid), m0 = cpuMs(mock.pid), t0 = performance.now();
for (let i = 0; i < 2000; i++) await fetchText(a, { method: 'POST', url: `${c.url}/converse`, body: body() });
console.log('sequential: colloquy cpu ms/req', ((cpuMs(c.pid) - c0) / 2000).toFixed(3), 'mock', ((cpuMs(mock.pid) - m0) / 2000).toFixed(3), 'wall ms/req', ((performance.now() - t0) / 2000).toFixed(3));
for (const conns of [1, 4, 16, 50]) {
  c0 = cpuMs(c.pid); m0 = cpuMs(mock.pid);
  const r = await autocannon({ url: c.url, connections: conns, duration: 4, requests: [{ method: 'POST', path: '/converse', headers: { 'content-type': 'application/json' }, setupRequest: (q) => ({ ...q, body: body() }) }] });
  const n = r.requests.total;
  console.log(`autocannon ${conns}: ${Math.round(r.requests.average)} req/s, colloquy cpu ms/req`, ((cpuMs(c.pid) - c0) / n).toFixed(3), 'cpu util', ((cpuMs(c.pid) - c0) / 4000 * 100).toFixed(0) + '%', 'mock ms/req', ((cpuMs(mock.pid) - m0) / n).toFixed(3), 'p50', r.latency.p50);
}
await c.dispose(); killAll(); process.exit(0);
