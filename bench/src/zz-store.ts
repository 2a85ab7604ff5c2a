import { runStore } from './scenarios/s5-store.ts';
import { killAll } from './lib/procs.ts';
import { startMock } from './lib/targets.ts';
const mock = await startMock();
const r = await runStore({ conversations: 10000, samples: 3000, httpSamples: 10, mockUrl: mock.url, log: () => {} });
for (const o of r.ops.filter((o) => o.layer === 'store')) console.log(o.summary.p50.toFixed(4), o.summary.p99.toFixed(3), o.id);
killAll(); process.exit(0);
