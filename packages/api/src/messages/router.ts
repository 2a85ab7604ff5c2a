import { router } from '../trpc.ts';
import { listMessages } from './list.ts';

export const messagesRouter = router({ list: listMessages });
