import { z } from 'zod';
import { userIdSchema } from './common.ts';

/**
 * Every procedure may name the user it acts for (`user`, alias `user_id` as the seed's clients
 * send it). Without API keys this is how users are told apart.
 */
export const userFields = {
  user: userIdSchema.optional(),
};
