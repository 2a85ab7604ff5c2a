import { router } from '../trpc.ts';
import { converse } from './converse.ts';
import { events } from './events.ts';
import { send } from './send.ts';
import { stop } from './stop.ts';

export const chatRouter = router({ send, events, converse, stop });
