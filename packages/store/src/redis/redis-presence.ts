import { createMemoryPresence } from '../presence/memory-presence.ts';
import {
  PresenceLimitError,
  type ClientRecord,
  type LeaveReason,
  type PresenceEvent,
  type PresenceRegistry,
} from '../presence/types.ts';
import type { RedisLink } from './redis-link.ts';

export interface RedisPresenceOptions {
  link: RedisLink;
  instanceId: string;
  /** PRESENCE_TIMEOUT_MS: a silent client, and every client of a dead instance, is gone within it. */
  timeoutMs: number;
  /** Connected clients one user may have across every instance (PresenceLimitError beyond). */
  maxPerUser?: number;
}

export interface RedisPresence extends PresenceRegistry {
  /** After `close()`: waits until this instance's clients are gone from Redis, then stops listening. */
  dispose(): Promise<void>;
}

/**
 * Puts this instance's view of a client: KEYS c:<key>, ids, u:<user>, i:<instance>, instances,
 * byid:<id>; ARGV instance, record JSON, client key. Returns 1 when no instance held the client
 * before, and every instance's record of it.
 */
const PUT = `
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[3])
return {fresh and 1 or 0, redis.call('HVALS', KEYS[1])}
`;

/** Drops this instance's view; the last one removes the client. Same keys; ARGV instance, client key. */
const DROP = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[2])
local rest = redis.call('HVALS', KEYS[1])
if #rest == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[2])
  redis.call('SREM', KEYS[6], ARGV[2])
end
return rest
`;

/**
 * Removes the clients of every instance whose liveness key expired, publishing their `left`
 * (reason `timeout`) — atomically, so two instances sweeping at once publish each leave once.
 * KEYS instances; ARGV prefix, channel.
 */
const REAP = `
local prefix = ARGV[1]
local removed = 0
for _, inst in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', prefix .. 'presence:alive:' .. inst) == 0 then
    local held = prefix .. 'presence:i:' .. inst
    for _, ck in ipairs(redis.call('SMEMBERS', held)) do
      local key = prefix .. 'presence:c:' .. ck
      local json = redis.call('HGET', key, inst)
      redis.call('HDEL', key, inst)
      if json then
        local record = cjson.decode(json)
        if redis.call('HLEN', key) == 0 then
          redis.call('SREM', prefix .. 'presence:ids', ck)
          redis.call('SREM', prefix .. 'presence:u:' .. record.userId, ck)
          redis.call('SREM', prefix .. 'presence:byid:' .. record.id, ck)
          redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'left', reason = 'timeout', client = record, from = inst}))
          removed = removed + 1
        end
      end
    end
    redis.call('DEL', held)
    redis.call('SREM', KEYS[1], inst)
  end
end
return removed
`;

interface Wire {
  type: PresenceEvent['type'];
  client: ClientRecord;
  reason?: LeaveReason;
  from: string;
}

type Command = { op: 'touch'; userId: string; id: string } | { op: 'streams'; userId: string; id: string; delta: number };

/** A client's key: its user and its id, as the in-process registry keys it (user ids have no control characters). */
const clientKey = (userId: string, id: string): string => `${userId}\u0000${id}`;

/**
 * Presence shared by every instance. Each instance holds its own connections in an in-process
 * registry (leases, heartbeats, the silence timeout — as with one process) and mirrors each of
 * its clients into Redis: a hash per client — named by user and id, as clients are — with one
 * field per instance holding it (a client may hold a presence connection on one instance and
 * publish video through another), plus index sets (all, per user, per instance, per id). Every join, change and leave is published on
 * `<prefix>presence`; `watch` listeners get those, from every instance. A heartbeat or a stream
 * naming a client held elsewhere is forwarded on `<prefix>presence:cmd` to the holder.
 *
 * Each instance keeps a liveness key (`presence:alive:<id>`, expiring after 60 % of the timeout,
 * renewed every 20 %); any instance's sweep removes the clients of an instance whose key expired
 * (script REAP), so a dead instance's clients leave within PRESENCE_TIMEOUT_MS.
 */
export async function createRedisPresence(options: RedisPresenceOptions): Promise<RedisPresence> {
  const { link, instanceId, timeoutMs } = options;
  const redis = link.command;
  const p = link.prefix;
  const maxPerUser = options.maxPerUser ?? Number.POSITIVE_INFINITY;
  const eventsChannel = `${p}presence`;
  const commandsChannel = `${p}presence:cmd`;
  const keys = {
    client: (ck: string) => `${p}presence:c:${ck}`,
    ids: `${p}presence:ids`,
    user: (userId: string) => `${p}presence:u:${userId}`,
    byId: (id: string) => `${p}presence:byid:${id}`,
    held: `${p}presence:i:${instanceId}`,
    instances: `${p}presence:instances`,
    alive: `${p}presence:alive:${instanceId}`,
  };
  const aliveMs = Math.max(100, Math.floor(timeoutMs * 0.6));
  const sweepEveryMs = Math.max(10, Math.floor(timeoutMs * 0.2));
  const local = createMemoryPresence({ timeoutMs });
  const listeners = new Set<(event: PresenceEvent) => void>();
  /** Clients whose lastSeen changed since they were last written (heartbeats are not events). */
  const dirty = new Set<string>();
  let pending: Promise<unknown> = Promise.resolve();
  let closed = false;

  const deliver = (event: PresenceEvent) => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch {
        // A failing listener must not break presence for everyone else.
      }
    }
  };
  const publish = (wire: Wire) => redis.publish(eventsChannel, JSON.stringify(wire));
  const merged = (records: string[]): ClientRecord | undefined => merge(records.map((r) => JSON.parse(r) as ClientRecord));
  const clientKeys = (record: ClientRecord) => [
    keys.client(clientKey(record.userId, record.id)),
    keys.ids,
    keys.user(record.userId),
    keys.held,
    keys.instances,
    keys.byId(record.id),
  ];

  /** Runs mirror operations one after another, in the order local changes happened. */
  const enqueue = (op: () => Promise<unknown>) => {
    pending = pending.then(op).catch(() => undefined);
  };
  const put = async (record: ClientRecord, type: 'joined' | 'changed') => {
    const [fresh, all] = (await redis.eval(PUT, 6, ...clientKeys(record), instanceId, JSON.stringify(record), clientKey(record.userId, record.id))) as [number, string[]];
    const client = merged(all) ?? record;
    await publish({ type: fresh === 1 ? 'joined' : type, client, from: instanceId });
  };
  const drop = async (record: ClientRecord, reason: LeaveReason) => {
    const rest = (await redis.eval(DROP, 6, ...clientKeys(record), instanceId, clientKey(record.userId, record.id))) as string[];
    const client = merged(rest);
    await publish(client ? { type: 'changed', client, from: instanceId } : { type: 'left', client: record, reason, from: instanceId });
  };

  local.watch((event) => {
    dirty.delete(clientKey(event.client.userId, event.client.id));
    const record = event.client;
    if (event.type === 'left') enqueue(() => drop(record, event.reason));
    else enqueue(() => put(record, event.type));
  });

  const offEvents = await link.subscribe(eventsChannel, (message) => {
    const wire = JSON.parse(message.toString()) as Wire;
    deliver(wire.type === 'left' ? { type: 'left', client: wire.client, reason: wire.reason ?? 'closed' } : { type: wire.type, client: wire.client });
  });
  const offCommands = await link.subscribe(commandsChannel, (message) => {
    const command = JSON.parse(message.toString()) as Command;
    if (!local.local(command.userId, command.id)) return;
    if (command.op === 'touch') touchHere(command.userId, command.id);
    else local.adjustStreams(command.userId, command.id, command.delta);
  });

  /** Dirty clients by key, with their user and id. */
  const dirtyIds = new Map<string, [string, string]>();
  const touchHere = (userId: string, id: string) => {
    if (!local.touchLocal(userId, id)) return false;
    const ck = clientKey(userId, id);
    dirty.add(ck);
    dirtyIds.set(ck, [userId, id]);
    return true;
  };

  /** Liveness, lastSeen of heartbeating clients, and the clients of dead instances. */
  const heartbeat = async () => {
    const writes = redis.pipeline();
    writes.set(keys.alive, '1', 'PX', aliveMs);
    writes.sadd(keys.instances, instanceId);
    for (const ck of dirty) {
      const [userId, id] = dirtyIds.get(ck) ?? ['', ''];
      const record = local.local(userId, id);
      if (record) writes.hset(keys.client(ck), instanceId, JSON.stringify(record));
    }
    dirty.clear();
    dirtyIds.clear();
    await writes.exec();
    await redis.eval(REAP, 1, keys.instances, p, eventsChannel);
  };
  const timer = setInterval(() => {
    local.sweep();
    heartbeat().catch(() => undefined);
  }, sweepEveryMs);
  timer.unref();

  /** After an outage: what this instance holds is written again, what it no longer holds removed. */
  const resync = async () => {
    const mine = await redis.smembers(keys.held);
    for (const ck of mine) {
      const json = await redis.hget(keys.client(ck), instanceId);
      if (!json) continue;
      const record = JSON.parse(json) as ClientRecord;
      if (!local.local(record.userId, record.id)) await drop(record, 'closed');
    }
    for (const record of await local.list()) await put(record, 'changed');
  };
  const offReady = link.onReady(() => enqueue(() => heartbeat().then(resync)));
  await heartbeat();

  const readClients = async (cks: string[]): Promise<ClientRecord[]> => {
    const all = await Promise.all(cks.map((ck) => redis.hvals(keys.client(ck))));
    return all
      .map((records) => merged(records))
      .filter((c): c is ClientRecord => c !== undefined)
      .sort((a, b) => a.connectedAt - b.connectedAt || (a.id < b.id ? -1 : 1));
  };

  const registry: RedisPresence = {
    async attach(input) {
      if (closed) throw new Error('the presence registry is closed');
      if (!local.local(input.userId, input.id)) {
        const [count, member] = await Promise.all([
          redis.scard(keys.user(input.userId)),
          redis.sismember(keys.user(input.userId), clientKey(input.userId, input.id)),
        ]);
        if (member === 0 && count >= maxPerUser) throw new PresenceLimitError(`at most ${maxPerUser} connected clients per user`);
      }
      const lease = local.hold(input);
      // Listed on every instance once attach resolves (the join's mirror write has gone through).
      await pending;
      return lease;
    },
    async touch(userId, id) {
      if (touchHere(userId, id)) return true;
      if ((await redis.exists(keys.client(clientKey(userId, id)))) === 0) return false;
      await redis.publish(commandsChannel, JSON.stringify({ op: 'touch', userId, id } satisfies Command));
      return true;
    },
    setPublishing: (userId, id, publishing) => local.setPublishing(userId, id, publishing),
    adjustStreams(userId, id, delta) {
      if (local.local(userId, id)) return local.adjustStreams(userId, id, delta);
      redis.publish(commandsChannel, JSON.stringify({ op: 'streams', userId, id, delta } satisfies Command)).catch(() => undefined);
    },
    async get(userId, id) {
      return merged(await redis.hvals(keys.client(clientKey(userId, id))));
    },
    async findById(id, limit) {
      const cks = (await redis.smembers(keys.byId(id))).slice(0, Math.max(0, limit));
      return readClients(cks);
    },
    async list(userId) {
      return readClients(await redis.smembers(userId === undefined ? keys.ids : keys.user(userId)));
    },
    count: () => local.count(),
    publishingCount: () => local.publishingCount(),
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sweep(now) {
      const removed = local.sweep(now);
      void heartbeat().catch(() => undefined);
      return removed;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // Every client here leaves (`shutdown`), mirrored to Redis by the watch above.
      local.close();
    },
    async dispose() {
      registry.close();
      offReady();
      await pending;
      await redis.multi().del(keys.alive).srem(keys.instances, instanceId).del(keys.held).exec().catch(() => undefined);
      offEvents();
      offCommands();
      listeners.clear();
    },
  };
  return registry;
}

/**
 * One client as every instance holding it sees it: the first connection time, the latest sign of
 * life, the streams of all, publishing on any; the details of the earliest holder.
 */
function merge(records: ClientRecord[]): ClientRecord | undefined {
  if (records.length === 0) return undefined;
  const sorted = [...records].sort((a, b) => a.connectedAt - b.connectedAt);
  const first = sorted[0]!;
  return {
    ...first,
    lastSeen: Math.max(...sorted.map((r) => r.lastSeen)),
    openStreams: sorted.reduce((n, r) => n + r.openStreams, 0),
    publishing: sorted.some((r) => r.publishing),
  };
}
