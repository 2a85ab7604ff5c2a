import { router } from '../trpc.ts';
import { listAgents } from './list.ts';

export const agentsRouter = router({ list: listAgents });
