import { router } from '../trpc.ts';
import { whoami } from './whoami.ts';

export const sessionRouter = router({ whoami });
