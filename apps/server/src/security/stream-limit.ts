/**
 * Open streams per API key, or per client IP for callers without a valid key (the rate
 * limiter's buckets, `rateBucket`): tRPC subscriptions (SSE), REST NDJSON answers and live-video
 * WebSockets. Each holds memory and a socket for as long as it lasts, which a request rate does
 * not bound. Counts are kept in this process; several processes would each allow the cap (a
 * shared count belongs with the shared rate-limit store).
 */
export interface StreamLimiter {
  /** Holds one open stream for `bucket`: the function that gives it back, or undefined at the cap. */
  open(bucket: string): (() => void) | undefined;
  /** The cap that applies to `bucket` (0: none). */
  capOf(bucket: string): number;
}

export interface StreamLimits {
  /** Open streams per API key; 0 for no cap. */
  perKey: number;
  /** Open streams per client IP (requests without a valid key); 0 for no cap. */
  perIp: number;
}

export function createStreamLimiter(limits: StreamLimits): StreamLimiter {
  const open = new Map<string, number>();
  const capOf = (bucket: string) => (bucket.startsWith('key:') ? limits.perKey : limits.perIp);
  return {
    capOf,
    open(bucket) {
      const cap = capOf(bucket);
      const n = open.get(bucket) ?? 0;
      if (cap > 0 && n >= cap) return undefined;
      open.set(bucket, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(bucket) ?? 1) - 1;
        if (left > 0) open.set(bucket, left);
        else open.delete(bucket);
      };
    },
  };
}
