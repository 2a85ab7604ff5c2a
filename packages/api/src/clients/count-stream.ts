import type { Context } from '../context.ts';

/**
 * Counts `stream` as one of the calling client's open streams while it is being read, when the
 * request named a connected client (`X-Colloquy-Client`) of the user the call acts for.
 */
export async function countOpenStream<T>(ctx: Context, owner: string, stream: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const clientId = ctx.request.clientId;
  if (!clientId) return stream;
  const { presence } = ctx.services;
  const record = await presence.get(clientId);
  if (!record || record.userId !== owner) return stream;
  return (async function* counted() {
    presence.adjustStreams(clientId, 1);
    try {
      yield* stream;
    } finally {
      presence.adjustStreams(clientId, -1);
    }
  })();
}
