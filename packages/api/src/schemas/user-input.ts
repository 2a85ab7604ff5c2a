import { userIdSchema } from './common.ts';

/**
 * Every procedure may name the user it acts for (`user`; forms and the REST routes also take the
 * alias `user_id`, see access.ts). Without API keys this is how users are told apart.
 */
export const userFields = {
  user: userIdSchema.optional(),
};
