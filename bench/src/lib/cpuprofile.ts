/** Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions and packages by self time. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time that was not idle (ms). */
  busyMs: number;
  totalMs: number;
  functions: SelfTime[];
  /** Self time by package (npm package, workspace package, node internals, GC, …). */
  packages: SelfTime[];
}

/** `node_modules/.pnpm/x@1/node_modules/@scope/pkg/dist/a.js` → `@scope/pkg`, workspace → `@colloquy/…`. */
export function packageOf(url: string): string {
  if (!url) return '(native / VM)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const ws = /\/(apps\/server|packages\/(?:api|store|agents|sdk))\/src\//.exec(url);
  if (ws) return ws[1] === 'apps/server' ? '@colloquy/server' : `@colloquy/${ws[1]!.split('/')[1]}`;
  if (url.includes('colloquy-server.mjs')) return '(bundle)';
  return url;
}

function shortUrl(url: string): string {
  if (!url) return '';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const ws = url.indexOf('/apps/');
  const pk = url.indexOf('/packages/');
  const at = ws >= 0 ? ws : pk;
  return at >= 0 ? url.slice(at + 1) : url.replace(/^file:\/\//, '');
}

/**
 * `window` (µs, the same monotonic clock as process.hrtime, which V8's profile timestamps use
 * on Linux) keeps only samples taken while the workload ran, not the start-up.
 */
export function summarizeProfile(path: string, top = 25, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
    }
  } else {
    const interval = (p.endTime - p.startTime) / 1000 / Math.max(1, p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of p.nodes) self.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const fns = new Map<string, { name: string; where: string; ms: number }>();
  const pkgs = new Map<string, number>();
  let busy = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += ms;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}|${where}`;
    const f = fns.get(key) ?? { name, where, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
    const pkg = functionName.startsWith('(') && !url ? functionName : packageOf(url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + ms);
  }
  const rank = (list: Array<{ name: string; where: string; ms: number }>) =>
    list
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, share: busy > 0 ? f.ms / busy : 0 }));
  return {
    busyMs: busy,
    totalMs: total,
    functions: rank([...fns.values()]),
    packages: rank([...pkgs.entries()].map(([name, ms]) => ({ name, where: '', ms }))),
  };
}
