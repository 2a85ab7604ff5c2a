import type { InstanceRecord, MessageRecord, Store, StreamLog } from '@colloquy/store';
import type { StreamEvent } from '../../schemas/stream-event.ts';
import type { Logger } from '../observability.ts';
import { snapshotEvent } from '../stream-event-builders.ts';
import { canCheckPids, machineKey, processExists } from './instance-identity.ts';

export interface InstanceLeaseOptions {
  store: Store;
  /** Whose streams a dead instance leaves open are ended (readers on other instances stop waiting). */
  streamLog: StreamLog<StreamEvent>;
  instanceId: string;
  /** How long a lease lasts without renewal; it is renewed (and others' checked) every third of it. */
  leaseMs: number;
  logger: Logger;
  /** The clock and the process checks (tests). */
  now?: () => number;
  machine?: string;
  pid?: number;
  processExists?: (pid: number) => boolean;
}

export interface InstanceLease {
  /** Takes the lease and recovers what dead instances left; then renews and re-checks periodically. */
  start(): Promise<number>;
  /**
   * One round: renews this instance's lease, finds the instances that are gone (lease expired,
   * or — on this machine — their process no longer exists), marks their `streaming` messages
   * `interrupted`, ends their shared streams and removes their rows. Returns how many messages
   * it interrupted.
   */
  check(): Promise<number>;
  /** Stops renewing and gives the lease up (after this instance's turns have ended). */
  stop(): Promise<void>;
}

/**
 * Ownership and recovery. Each instance holds a lease row in the store (so this works on one
 * PostgreSQL without Redis, and on one SQLite file shared by WORKERS) and records itself as the
 * owner of every turn it runs. A message is marked `interrupted` only when its owner is gone:
 * never a live turn of another instance, and not only at start-up.
 *
 * A killed process is noticed at the next check by an instance on the same machine (its pid is
 * gone), and by every other instance when its lease expires. A process whose pid is ours but
 * whose id is not (a container restarted with pid 1) is a previous life of this one: gone.
 */
export function createInstanceLease(options: InstanceLeaseOptions): InstanceLease {
  const { store, streamLog, instanceId, leaseMs, logger } = options;
  const now = options.now ?? Date.now;
  const machine = options.machine ?? machineKey();
  const pid = options.pid ?? process.pid;
  const exists = options.processExists ?? processExists;
  const startedAt = now();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<number> | undefined;
  let stopped = false;

  const isGone = (other: InstanceRecord, at: number): boolean => {
    if (other.id === instanceId) return false;
    if (other.expiresAt <= at) return true;
    if (!canCheckPids(other.machine, machine)) return false;
    return other.pid === pid || !exists(other.pid);
  };

  const round = async (): Promise<number> => {
    const at = now();
    await store.instances.renew({ id: instanceId, machine, pid, startedAt, expiresAt: at + leaseMs });
    const gone = (await store.instances.list()).filter((i) => isGone(i, at)).map((i) => i.id);
    const interrupted = await store.messages.interruptOrphaned(gone, at);
    await store.instances.remove(gone);
    for (const m of interrupted) {
      // Readers following the stream on any instance get its last event and end.
      const stored: MessageRecord | undefined = await store.messages.get(m.id);
      if (stored) await streamLog.endOrphan(m.id, (id) => snapshotEvent(stored, id)).catch((err: unknown) => {
        logger.warn({ err, messageId: m.id }, 'could not end the stream of an interrupted answer');
      });
    }
    if (interrupted.length > 0 || gone.length > 0) {
      logger.warn({ instances: gone, messages: interrupted.length }, 'answers of instances that are gone marked interrupted');
    }
    return interrupted.length;
  };

  const check = (): Promise<number> => {
    // One round at a time: a slow store must not pile rounds up.
    checking ??= round().finally(() => {
      checking = undefined;
    });
    return checking;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      check()
        .catch((err: unknown) => logger.warn({ err }, 'instance lease renewal failed'))
        .finally(schedule);
    }, Math.max(50, Math.floor(leaseMs / 3)));
    timer.unref();
  };

  return {
    async start() {
      const recovered = await check();
      schedule();
      return recovered;
    },
    check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await checking?.catch(() => undefined);
      await store.instances.remove([instanceId]);
    },
  };
}
