import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Which processes this one can check by pid: the same host name, boot and pid namespace. Two
 * containers on one host differ in their pid namespace; a restarted machine in its boot id.
 * Without /proc (not Linux) only the host name is known, and no pid is ever trusted (see
 * `canCheckPids`): instances there are judged by their lease alone.
 */
export function machineKey(): string {
  const boot = readOrEmpty(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  const pidNamespace = readOrEmpty(() => readlinkSync('/proc/self/ns/pid'));
  return `${hostname()}|${boot}|${pidNamespace}`;
}

/** Whether pids of instances with this machine key may be checked from here. */
export function canCheckPids(key: string, own: string): boolean {
  return key === own && !key.endsWith('||');
}

/** Whether a process with this pid exists (on this machine, in this pid namespace). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrEmpty(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}
