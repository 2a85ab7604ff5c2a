import { router } from '../trpc.ts';
import { connect } from './connect.ts';
import { heartbeat } from './heartbeat.ts';
import { list } from './list.ts';
import { watch } from './watch.ts';

export const clientsRouter = router({ connect, heartbeat, list, watch });
