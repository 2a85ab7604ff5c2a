import type { AppRouter } from '@colloquy/api';
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, isNonJsonSerializable, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

/** A plain @trpc/client for the server: batched HTTP for calls, SSE for subscriptions, FormData unbatched. */
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
        // FormData (files.upload) cannot be batched: it goes alone, as multipart.
        false: splitLink({
          condition: (op) => isNonJsonSerializable(op.input),
          true: httpLink({ url, headers }),
          false: httpBatchLink({ url, headers }),
        }),
      }),
    ],
  });
}
