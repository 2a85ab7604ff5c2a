import type { AppRouter } from '@colloquy/api';
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { SingleConnectionEventSource } from './event-source.ts';
import { noteResponse, noteStreamResponse, type ResponseCapture } from './response-capture.ts';

export interface TransportOptions {
  baseUrl: string;
  /** Headers on every request (auth, user, client id, the caller's extra headers). */
  headers: Record<string, string>;
  fetch: typeof globalThis.fetch;
}

/** What each call hands the links through tRPC's operation context. */
export interface CallContext {
  /** The call's own headers (per-call `headers`), over the client's. */
  headers?: Record<string, string> | undefined;
  /** Filled with the HTTP response (status, headers, an error body) once it arrives. */
  capture?: ResponseCapture | undefined;
  [key: string]: unknown;
}

export type ColloquyTRPCClient = TRPCClient<AppRouter>;

/** The server's tRPC endpoint. */
export const trpcUrl = (baseUrl: string): string => `${baseUrl.replace(/\/+$/, '')}/trpc`;

export function createTransport(options: TransportOptions): ColloquyTRPCClient {
  const url = trpcUrl(options.baseUrl);
  const baseFetch = options.fetch;
  const headersOf = (context: CallContext): Record<string, string> => ({ ...options.headers, ...context.headers });
  const callHeaders = ({ op }: { op: { context: CallContext } }) => headersOf(op.context);

  return createTRPCClient<AppRouter>({
    links: [
      captureLink,
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource: SingleConnectionEventSource,
          // One EventSource per subscription: its fetch adds the headers (a browser's native
          // EventSource cannot send Authorization) and records the response for errors.
          eventSourceOptions: ({ op }) => {
            const context = op.context as CallContext;
            const fetch: typeof globalThis.fetch = async (input, init) => {
              const res = await baseFetch(input, {
                ...init,
                headers: { ...(init?.headers as Record<string, string> | undefined), ...headersOf(context) },
              });
              if (!context.capture) return res;
              return noteStreamResponse(context.capture, res);
            };
            return { fetch };
          },
        }),
        // One request per call (no batching): retries, timeouts and errors stay per call.
        // httpLink sends FormData (files.upload) as multipart by itself.
        false: httpLink({ url, headers: callHeaders, fetch: baseFetch }),
      }),
    ],
  });
}

/** Records each call's response (successful or not) in its context's capture, for `withResponse()`. */
const captureLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) => {
      const capture = (op.context as CallContext).capture;
      const subscription = next(op).subscribe({
        next(value) {
          const response = (value.context as { response?: unknown } | undefined)?.response;
          if (capture && response instanceof Response) noteResponse(capture, response);
          observer.next(value);
        },
        error(err) {
          const response = (err.meta as { response?: unknown } | undefined)?.response;
          if (capture && response instanceof Response) noteResponse(capture, response);
          observer.error(err);
        },
        complete() {
          observer.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
