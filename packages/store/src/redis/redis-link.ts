import { Redis } from 'ioredis';

/**
 * A process's connections to Redis, shared by every piece of live state: one for commands
 * (auto-pipelined: commands issued in the same tick go out as one write) and one subscriber for
 * every channel (stream wake-ups, stops, presence events, video frames). Never one per stream,
 * client or viewer: a process holds two connections whatever its load.
 *
 * While Redis is unreachable commands fail at once (no offline queue: a caller gets a clear
 * error instead of waiting) and ioredis reconnects in the background; `onReady` listeners then
 * re-synchronise what they may have missed (pub/sub messages are not queued for a subscriber
 * that was away).
 */
export interface RedisLink {
  /** Prepended to every key and channel (REDIS_PREFIX), so deployments can share a Redis. */
  readonly prefix: string;
  readonly command: Redis;
  /** Calls `handler` with every message published on `channel` (exact name, prefix included). */
  subscribe(channel: string, handler: (message: Buffer) => void): Promise<() => void>;
  /** Whether both connections are up right now. */
  isReady(): boolean;
  /** Called each time both connections are up again after an outage. */
  onReady(listener: () => void): () => void;
  /** A round trip on the command connection (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class RedisConnectError extends Error {
  override readonly name = 'RedisConnectError';
}

export interface RedisLinkOptions {
  url: string;
  prefix: string;
  /** How long the first connection may take before start-up fails (default 5 s). */
  connectTimeoutMs?: number;
}

/** Connects both connections; rejects with RedisConnectError naming REDIS_URL when Redis does not answer. */
export async function connectRedis(options: RedisLinkOptions): Promise<RedisLink> {
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const common = {
    lazyConnect: true,
    connectTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Back off up to 1 s between attempts, forever: the instance recovers without a restart.
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
  const command = new Redis(options.url, { ...common, enableAutoPipelining: true, connectionName: 'colloquy' });
  const subscriber = new Redis(options.url, { ...common, autoResubscribe: true, connectionName: 'colloquy-sub' });
  // Errors while reconnecting are expected; they surface as failed commands and `isReady`.
  command.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  try {
    await Promise.all([command.connect(), subscriber.connect()]);
    await command.ping();
  } catch (err) {
    command.disconnect();
    subscriber.disconnect();
    const where = redact(options.url);
    throw new RedisConnectError(`REDIS_URL: cannot connect to Redis at ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }

  const handlers = new Map<string, Set<(message: Buffer) => void>>();
  subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const set = handlers.get(channel.toString());
    if (!set) return;
    for (const h of set) {
      try {
        h(message);
      } catch {
        // One failing handler must not starve the others.
      }
    }
  });

  const readyListeners = new Set<() => void>();
  const ready = () => command.status === 'ready' && subscriber.status === 'ready';
  let wasReady = true;
  const onStatus = () => {
    const now = ready();
    if (now && !wasReady) for (const l of [...readyListeners]) l();
    wasReady = now;
  };
  for (const c of [command, subscriber]) {
    c.on('ready', onStatus);
    c.on('close', onStatus);
    c.on('end', onStatus);
  }

  return {
    prefix: options.prefix,
    command,
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        await subscriber.subscribe(channel);
      }
      set.add(handler);
      return () => {
        const current = handlers.get(channel);
        if (!current?.delete(handler) || current.size > 0) return;
        handlers.delete(channel);
        void subscriber.unsubscribe(channel).catch(() => undefined);
      };
    },
    isReady: ready,
    onReady(listener) {
      readyListeners.add(listener);
      return () => readyListeners.delete(listener);
    },
    async ping() {
      await command.ping();
    },
    async close() {
      readyListeners.clear();
      handlers.clear();
      await Promise.all([command.quit().catch(() => command.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
