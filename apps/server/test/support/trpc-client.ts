import type { AppRouter } from '@colloquy/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

/** A plain @trpc/client for the server: batched HTTP for calls, SSE for subscriptions. */
export function createTestClient(baseUrl: string, headers: Record<string, string> = {}) {
  const url = `${baseUrl}/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          // Node 20 has no global EventSource; the `eventsource` package is the standard one.
          EventSource,
          eventSourceOptions: () => ({ fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }) }),
        }),
        false: httpBatchLink({ url, headers }),
      }),
    ],
  });
}
