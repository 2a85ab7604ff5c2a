import type { StopSignals } from '../live/stop-signals.ts';
import type { RedisLink } from './redis-link.ts';

/**
 * Stops through Redis pub/sub: each instance listens on `<prefix>stop:<instanceId>` (subscribed
 * before this resolves, so no stop sent once the instance serves is missed); a stop sent to any
 * instance is published there, and the owner aborts the turn — its upstream call — as a local
 * stop would. PUBLISH answers how many subscribers got it, so a stop addressed to an instance
 * that is gone is known at once.
 */
export async function createRedisStopSignals(link: RedisLink, instanceId: string): Promise<StopSignals & { dispose(): void }> {
  const channelOf = (instance: string) => `${link.prefix}stop:${instance}`;
  const listeners = new Set<(messageId: string) => void>();
  const off = await link.subscribe(channelOf(instanceId), (message) => {
    for (const l of [...listeners]) l(message.toString());
  });
  return {
    async requestStop(owner, messageId) {
      return (await link.command.publish(channelOf(owner), messageId)) > 0;
    },
    listen(onStop) {
      listeners.add(onStop);
      return () => listeners.delete(onStop);
    },
    dispose: off,
  };
}
