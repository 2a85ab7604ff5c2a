import { router } from '../trpc.ts';
import { deleteConversation } from './delete.ts';
import { getConversation } from './get.ts';
import { listConversations } from './list.ts';
import { renameConversation } from './rename.ts';

export const conversationsRouter = router({
  list: listConversations,
  get: getConversation,
  rename: renameConversation,
  delete: deleteConversation,
});
