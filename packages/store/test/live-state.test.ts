import { randomUUID } from 'node:crypto';
import { dropRedisPrefix, freshRedisPrefix, serviceAvailable, testServices } from '@colloquy/testing';
import { describe } from 'vitest';
import {
  connectRedis,
  createMemoryPresence,
  createMemorySlotLimiter,
  createRedisPresence,
  createRedisSlotLimiter,
  type RedisLink,
} from '../src/index.ts';
import { runLimiterContract, runPresenceContract } from './live-contract.ts';

runPresenceContract('in-process', async ({ timeoutMs, maxPerUser }) => {
  const presence = createMemoryPresence({ timeoutMs, maxPerUser });
  return { a: presence, b: presence, close: async () => presence.close() };
}, false);

runLimiterContract('in-process', async () => {
  const slots = createMemorySlotLimiter();
  return { a: slots, b: slots, close: async () => slots.close() };
}, false);

const { redis } = await testServices();

/** Two instances' links on one fresh prefix. */
async function twoLinks(): Promise<{ a: RedisLink; b: RedisLink; close(): Promise<void> }> {
  const prefix = freshRedisPrefix();
  const [a, b] = await Promise.all([connectRedis({ url: redis!, prefix }), connectRedis({ url: redis!, prefix })]);
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await dropRedisPrefix(redis!, prefix);
    },
  };
}

describe.runIf(serviceAvailable(redis, 'Redis', 'store: Redis presence and slot limiter contracts'))('Redis', () => {
  runPresenceContract('Redis, two instances', async ({ timeoutMs, maxPerUser }) => {
    const links = await twoLinks();
    const a = await createRedisPresence({ link: links.a, instanceId: randomUUID(), timeoutMs, maxPerUser });
    const b = await createRedisPresence({ link: links.b, instanceId: randomUUID(), timeoutMs, maxPerUser });
    let killed = false;
    return {
      a,
      b,
      async kill() {
        // As `kill -9` would: A's connections drop, nothing is cleaned up.
        killed = true;
        a.close = () => undefined;
        links.a.command.disconnect();
      },
      async close() {
        if (!killed) await a.dispose();
        await b.dispose();
        await links.close();
      },
    };
  }, true);

  runLimiterContract('Redis, two instances', async ({ leaseMs }) => {
    const links = await twoLinks();
    const a = createRedisSlotLimiter({ link: links.a, instanceId: randomUUID(), leaseMs });
    const b = createRedisSlotLimiter({ link: links.b, instanceId: randomUUID(), leaseMs });
    return {
      a,
      b,
      kill: () => a.close(),
      async close() {
        a.close();
        b.close();
        await links.close();
      },
    };
  }, true);
});
