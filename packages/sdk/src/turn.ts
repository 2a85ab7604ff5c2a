import type { AppRouter } from '@colloquy/api';
import type { inferRouterInputs } from '@trpc/server';
import type { TurnIds } from './call.ts';
import { BadRequestError } from './errors.ts';
import { randomUUID } from './ids.ts';
import type { ConverseInput } from './types.ts';

type WireTurn = inferRouterInputs<AppRouter>['chat']['send'];

/** A turn as it goes on the wire, with its ids settled before it is sent. */
export interface PreparedTurn {
  wire: WireTurn & { messageId: string };
  ids: TurnIds & { messageId: string };
}

/**
 * Settles a turn's ids on the client: the answer's message id (the caller's or a new UUID), so
 * a turn whose start is never answered can still be resumed or stopped; and for
 * `newConversation`, a new conversation id (the server creates a conversation for an id it does
 * not know, where it would otherwise continue the user's latest).
 */
export function prepareTurn(input: ConverseInput): PreparedTurn {
  const { newConversation, conversationId, messageId = randomUUID(), ...fields } = input;
  if (newConversation === true && conversationId !== undefined) {
    throw new BadRequestError('newConversation: true and a conversationId exclude each other', { status: 0, code: 'BAD_REQUEST' });
  }
  const chosenConversation = newConversation === true ? randomUUID() : conversationId;
  return {
    wire: { ...fields, messageId, ...(chosenConversation !== undefined ? { conversationId: chosenConversation } : {}) },
    ids: { messageId, conversationId: chosenConversation },
  };
}
