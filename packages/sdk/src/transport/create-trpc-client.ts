import type { AppRouter } from '@colloquy/api';
import { createTRPCClient, httpLink, httpSubscriptionLink, isNonJsonSerializable, splitLink, type TRPCClient } from '@trpc/client';
import { SingleConnectionEventSource } from './event-source.ts';

export interface TransportOptions {
  baseUrl: string;
  headers: Record<string, string>;
  fetch: typeof globalThis.fetch;
  /** Per-request timeout for calls (not for streams, which may be long-lived). */
  timeoutMs: number;
}

export type ColloquyTRPCClient = TRPCClient<AppRouter>;

export function createTransport(options: TransportOptions): ColloquyTRPCClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/trpc`;
  const baseFetch = options.fetch;
  const timedFetch: typeof globalThis.fetch = (input, init) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return baseFetch(input, { ...init, signal });
  };
  const streamFetch: typeof globalThis.fetch = (input, init) =>
    baseFetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...options.headers } });

  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource: SingleConnectionEventSource,
          eventSourceOptions: () => ({ fetch: streamFetch }),
        }),
        false: splitLink({
          // FormData (files.upload) goes as multipart; an upload may take longer than a call's
          // timeout, so only the caller's own signal limits it.
          condition: (op) => isNonJsonSerializable(op.input),
          true: httpLink({ url, headers: () => options.headers, fetch: baseFetch }),
          // One request per call (no batching): retries and errors stay per call.
          false: httpLink({ url, headers: () => options.headers, fetch: timedFetch }),
        }),
      }),
    ],
  });
}
