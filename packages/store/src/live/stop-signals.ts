/**
 * How `stop` reaches the instance running a turn: in-process it can only be this one; through
 * Redis (`createRedisStopSignals`) a stop sent to any instance is published to the owner's
 * control channel and aborts the upstream call there.
 */
export interface StopSignals {
  /**
   * Asks instance `owner` to stop the turn of `messageId`. Resolves true when the request went
   * out to that instance (this one, or a shared channel), false when nothing can reach it.
   */
  requestStop(owner: string, messageId: string): Promise<boolean>;
  /** Calls `onStop` for every stop addressed to this instance, until the returned function is called. */
  listen(onStop: (messageId: string) => void): () => void;
}

export function createLocalStopSignals(instanceId: string): StopSignals {
  const listeners = new Set<(messageId: string) => void>();
  return {
    requestStop(owner, messageId) {
      if (owner !== instanceId) return Promise.resolve(false);
      for (const l of [...listeners]) l(messageId);
      return Promise.resolve(true);
    },
    listen(onStop) {
      listeners.add(onStop);
      return () => listeners.delete(onStop);
    },
  };
}
