import { dropRedisPrefix, freshRedisPrefix, serviceAvailable, testServices } from '@colloquy/testing';
import { describe } from 'vitest';
import { connectRedis, createMemoryStreamLog, createRedisStreamLog } from '../src/index.ts';
import { runStreamLogContract, type Ev } from './stream-log-contract.ts';

runStreamLogContract('in-process', async ({ retentionMs }) => {
  const log = createMemoryStreamLog<Ev>({ retentionMs });
  return { writer: log, reader: log, close: async () => undefined };
});

const { redis } = await testServices();
describe.runIf(serviceAvailable(redis, 'Redis', 'store: Redis stream log contract'))('Redis', () => {
  runStreamLogContract('Redis, read from another instance', async ({ retentionMs }) => {
    const prefix = freshRedisPrefix();
    const [a, b] = await Promise.all([connectRedis({ url: redis!, prefix }), connectRedis({ url: redis!, prefix })]);
    const writer = createRedisStreamLog<Ev>({ link: a, retentionMs });
    const reader = createRedisStreamLog<Ev>({ link: b, retentionMs });
    return {
      writer,
      reader,
      async close() {
        await writer.dispose();
        await reader.dispose();
        await Promise.all([a.close(), b.close()]);
        await dropRedisPrefix(redis!, prefix);
      },
    };
  });
});
