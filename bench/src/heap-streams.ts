/**
 * Heap attribution per open stream (not part of `pnpm bench`): starts the mock in hold mode and a
 * Colloquy child with `--heapsnapshot-signal`, takes a heap snapshot before and with N streams
 * open, and prints the retained growth per stream by constructor (self sizes; a snapshot runs a
 * full GC first, so this is live memory only).
 *
 *   node --import tsx src/heap-streams.ts [--streams=2000] [--redis] [--colloquy-root=…]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisPrefix, freshRedisPrefix } from '@colloquy/testing';
import { rssOf, sleep } from './lib/procs.ts';
import { startColloquy, startMock } from './lib/targets.ts';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}`))?.split('=')[1] ?? (process.argv.includes(`--${name}`) ? '' : undefined);
const n = Number(arg('streams') ?? 2000);
const redis = arg('redis') !== undefined ? (process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined;
const root = arg('colloquy-root');
if (root) process.env.BENCH_COLLOQUY_ROOT = root;

const dir = mkdtempSync(join(tmpdir(), 'colloquy-heap-'));
const mock = await startMock();
const prefix = freshRedisPrefix();
const colloquy = await startColloquy({
  mockUrl: mock.url,
  nodeArgs: ['--heapsnapshot-signal=SIGUSR2'],
  cwd: dir,
  ...(redis ? { env: { REDIS_URL: redis, REDIS_PREFIX: prefix } } : {}),
});

async function snapshot(): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(colloquy.pid, 'SIGUSR2');
  for (;;) {
    await sleep(500);
    const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
    if (f) {
      // Written in chunks while the process is paused: done once it parses.
      for (;;) {
        const text = readFileSync(join(dir, f), 'utf8');
        if (text.trimEnd().endsWith('}')) {
          try {
            JSON.parse(text);
            return join(dir, f);
          } catch {
            // Not yet.
          }
        }
        await sleep(500);
      }
    }
  }
}

interface Totals {
  size: Map<string, number>;
  count: Map<string, number>;
  total: number;
}

/** `--detail`: keys also say what first holds each object (retainer's name and the edge's). */
const detail = arg('detail') !== undefined || arg('deep') !== undefined;
/** `--deep`: two levels of retainers. */
const deep = arg('deep') !== undefined;

function totals(file: string): Totals {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const iEdges = f.indexOf('edge_count');
  const types = snap.snapshot.meta.node_types[0];
  const ef = snap.snapshot.meta.edge_fields;
  const eWidth = ef.length;
  const eTypes = snap.snapshot.meta.edge_types[0];
  const nodeCount = snap.nodes.length / width;
  const label = (i: number): string => {
    const type = types[snap.nodes[i * width + iType]!]!;
    const name = snap.strings[snap.nodes[i * width + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return detail ? `"${name.slice(0, 30)}"` : '(string)';
    if (type === 'number') return '(number)';
    if (type === 'code') return '(code)';
    if (type === 'closure') return `closure ${name}`;
    if (type === 'hidden' || type === 'array') return `${type} ${name.slice(0, 40)}`;
    return `${type === 'object' ? '' : `${type} `}${name.slice(0, 60)}`;
  };
  const retainer = new Int32Array(nodeCount).fill(-1);
  const retEdge = new Array<string>(nodeCount);
  if (detail) {
    let e = 0;
    for (let i = 0; i < nodeCount; i++) {
      const count = snap.nodes[i * width + iEdges]!;
      for (let k = 0; k < count; k++, e += eWidth) {
        const et = eTypes[snap.edges[e]!]!;
        if (et === 'weak' || et === 'shortcut') continue;
        const to = snap.edges[e + 2]! / width;
        if (retainer[to] === -1) {
          retainer[to] = i;
          const nameOrIndex = snap.edges[e + 1]!;
          retEdge[to] = et === 'element' || et === 'hidden' ? `[${nameOrIndex}]` : String(snap.strings[nameOrIndex]).slice(0, 30);
        }
      }
    }
  }
  const size = new Map<string, number>();
  const count = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < nodeCount; i++) {
    let name = label(i);
    if (detail && retainer[i]! >= 0) {
      const r = retainer[i]!;
      name = `${name}  ←  ${label(r)}.${retEdge[i]}`;
      if (deep && retainer[r]! >= 0) name = `${name}  ←  ${label(retainer[r]!)}.${retEdge[r]}`;
    }
    const s = snap.nodes[i * width + iSize]!;
    size.set(name, (size.get(name) ?? 0) + s);
    count.set(name, (count.get(name) ?? 0) + 1);
    total += s;
  }
  return { size, count, total };
}

await mock.configure({ hold: true, delayMs: 5000, maxHoldMs: 180_000 });
await sleep(1000);
const a = await snapshot();
const rss0 = rssOf(colloquy.pid);

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
let opened = 0;
let next = 0;
const u = new URL(colloquy.url);
await new Promise<void>((resolve) => {
  let waiting = 0;
  const pump = () => {
    while (waiting < 128 && next < n) {
      next++;
      waiting++;
      const body = JSON.stringify({ query: 'Tell me a long story.', response_mode: 'streaming', user: 'bench-streams', conversation_id: randomUUID() });
      const req = request({ host: u.hostname, port: u.port, path: '/converse', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer sk-bench' } });
      let done = false;
      req.on('response', (res) => {
        res.on('data', (c: Buffer) => {
          if (!done && c.includes(10)) {
            done = true;
            opened++;
            waiting--;
            pump();
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.end(body);
    }
    if (next >= n && waiting === 0) resolve();
  };
  pump();
});
await sleep(3000);
const rss1 = rssOf(colloquy.pid);
const b = await snapshot();
const ta = totals(a);
const tb = totals(b);
console.log(`${opened} streams open; RSS/stream ${((rss1 - rss0) / opened / 1024).toFixed(1)} KB; live heap/stream ${((tb.total - ta.total) / opened / 1024).toFixed(2)} KB`);
const rows = [...tb.size.keys()].map((k) => ({ k, d: (tb.size.get(k)! - (ta.size.get(k) ?? 0)) / opened, c: (tb.count.get(k)! - (ta.count.get(k) ?? 0)) / opened }));
rows.sort((x, y) => y.d - x.d);
for (const r of rows.slice(0, Number(arg('top') ?? 70))) if (Math.abs(r.d) >= 8) console.log(`${r.d.toFixed(0).padStart(6)} B  ${r.c.toFixed(2).padStart(6)}×  ${r.k}`);

await mock.release();
await sleep(3000);
agent.destroy();
await colloquy.dispose();
await mock.stop();
if (redis) await dropRedisPrefix(redis, prefix).catch(() => undefined);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
