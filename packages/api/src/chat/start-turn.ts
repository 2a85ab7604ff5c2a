import type { z } from 'zod';
import type { Actor } from '../access.ts';
import type { Context } from '../context.ts';
import { AppError } from '../errors/app-error.ts';
import type { StartedTurn } from '../services/turn-service.ts';
import type { turnInput } from './turn-input.types.ts';

/** Validates what zod cannot know statically (configured limits) and starts the turn. */
export function startTurn(ctx: Context & { actor: Actor }, input: z.output<typeof turnInput>): Promise<StartedTurn> {
  const { config, turns } = ctx.services;
  if (input.query.length > config.maxQueryChars) {
    throw new AppError('PAYLOAD_TOO_LARGE', `query is longer than ${config.maxQueryChars} characters`);
  }
  return turns.start({
    actor: ctx.actor,
    query: input.query,
    conversationId: input.conversationId,
    files: input.files,
    agentId: input.agent,
    managerId: input.managerId,
    // The original REST API ignores a manager_id that differs from the continued conversation's.
    managerIdMustMatch: ctx.surface !== 'rest',
    messageId: input.messageId,
    conversationMode: input.conversationMode,
    history: input.history,
    inputs: input.inputs,
  });
}
