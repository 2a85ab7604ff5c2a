/** Child processes of a benchmark run: started, watched, measured (/proc) and always stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  pid: number;
  url: string;
  child: ChildProcess;
  /** The last 64 KB the process printed. */
  output(): string;
  exited: Promise<number | string>;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL (this child only, by its pid). */
  stop(graceMs?: number): Promise<number | string>;
}

const running = new Set<Child>();

/** Kills every child still running (on exit of the bench, or on an error). */
export function killAll(): void {
  for (const c of running) {
    try {
      c.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface StartChildOptions {
  name: string;
  /** Arguments after the node executable. */
  args: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Ready when a line matches (group 1 is the URL) … */
  readyLine?: RegExp;
  /** … or when GET on this URL answers 200 (then this is the child's URL too). */
  readyUrl?: string;
  timeoutMs?: number;
}

export async function startChild(options: StartChildOptions): Promise<Child> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const handle: Child = {
    name: options.name,
    pid: child.pid ?? -1,
    url: '',
    child,
    output: () => out,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
      return exited;
    },
  };
  running.add(handle);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (!gone && Date.now() < deadline) {
    if (options.readyLine) {
      const m = options.readyLine.exec(out);
      if (m?.[1]) {
        handle.url = m[1];
        return handle;
      }
    } else if (options.readyUrl && (await answers(options.readyUrl))) {
      handle.url = new URL(options.readyUrl).origin;
      return handle;
    }
    await sleep(50);
  }
  await handle.stop(1000);
  throw new Error(`${options.name} did not start (${gone ? 'exited' : 'timed out'}):\n${out.slice(-4000)}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resident set size of a process, from /proc/<pid>/status (VmRSS), in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ: what /proc reports CPU times in on Linux

/** CPU time (user + system) a process has used so far, in ms (10 ms resolution), from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
}

/** CPU time (ms) of a process and all its descendants (WORKERS > 1: the supervisor and its workers). */
export function treeCpuMs(pid: number): number {
  let total = cpuMs(pid);
  for (const child of childPids(pid)) total += treeCpuMs(child);
  return total;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * How many TCP connections a process holds to a remote port (e.g. Redis's): its socket inodes
 * (/proc/<pid>/fd) matched against /proc/<pid>/net/tcp{,6}.
 */
export function tcpConnectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local, remote (addr:port), state (01 = established), …, inode (10th column).
      if (cols.length > 9 && cols[2]?.endsWith(`:${hexPort}`) && cols[3] === '01' && inodes.has(cols[9]!)) n++;
    }
  }
  return n;
}

/** The soft limit on open files of a process, from /proc/<pid>/limits. */
export function fdLimit(pid: number = process.pid): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

/** Only loopback targets are ever measured. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1') throw new Error(`refusing to target ${host}: benchmarks only target 127.0.0.1`);
}
