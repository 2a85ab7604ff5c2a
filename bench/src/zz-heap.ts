import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { readdirSync, statSync } from 'node:fs';
import { killAll, sleep } from './lib/procs.ts';
import { startMock, startColloquy } from './lib/targets.ts';
const N = Number(process.argv[2] ?? 500);
const mock = await startMock();
const c = await startColloquy({ mockUrl: mock.url, nodeArgs: ['--heapsnapshot-signal=SIGUSR2'], cwd: '/tmp/heap' });
const snap = async () => {
  const before = new Set(readdirSync('/tmp/heap'));
  process.kill(c.pid, 'SIGUSR2');
  for (;;) { await sleep(500); const f = readdirSync('/tmp/heap').find((x) => !before.has(x) && x.endsWith('.heapsnapshot')); if (f) { let s = -1; let still = 0; while (still < 4) { const z = statSync("/tmp/heap/" + f).size; if (z === s && z > 0) still++; else still = 0; s = z; await sleep(1000); } return f; } }
};
// warm up with a few streams
await mock.configure({ chunks: 8, delayMs: 0 });
for (let i = 0; i < 100; i++) await fetch(`${c.url}/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'hi', response_mode: 'streaming', user: 'h', conversation_id: randomUUID() }) }).then((r) => r.text());
await sleep(1000);
console.log('before', await snap());
await mock.configure({ hold: true, delayMs: 5000, maxHoldMs: 120000 });
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
let open = 0;
for (let i = 0; i < N; i++) {
  await new Promise<void>((resolve) => {
    const body = JSON.stringify({ query: 'Tell me a long story.', response_mode: 'streaming', user: 'h', conversation_id: randomUUID() });
    const u = new URL(c.url);
    const req = request({ host: u.hostname, port: u.port, path: '/converse', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('response', (res) => { res.once('data', () => { open++; resolve(); }); res.resume(); });
    req.end(body);
  });
}
console.log('open', open);
await sleep(6000);
console.log('during', await snap());
await mock.release();
await sleep(2000);
await c.dispose(); killAll(); process.exit(0);
