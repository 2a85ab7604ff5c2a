import { AppError } from '@colloquy/api';
import { Router } from 'express';
import type { CallerFor } from '../rest/caller.ts';
import { DetailedError } from '../rest/procedure-error.ts';
import { restHandler } from '../rest/rest-handler.ts';
import type { Model } from './schemas.ts';

const FAILED = 'listing models failed';

/** When the server started: OpenAI's `created` of every model (agents are configured at start-up). */
const STARTED = Math.floor(Date.now() / 1000);

/** `GET /v1/models` and `GET /v1/models/:model`: one model per agent; `model` in a request picks it. */
export function modelsRoute(callerFor: CallerFor): Router {
  const r = Router();
  const models = async (caller: ReturnType<CallerFor>): Promise<Model[]> =>
    (await caller.agents.list({ checkReachability: false })).map((a) => ({ id: a.id, object: 'model', created: STARTED, owned_by: `colloquy-${a.type}` }));
  r.get(
    '/v1/models',
    restHandler(FAILED, async (req, res) => {
      res.json({ object: 'list', data: await models(callerFor(req)) });
    }),
  );
  r.get(
    '/v1/models/:model',
    restHandler(FAILED, async (req, res) => {
      const model = (await models(callerFor(req))).find((m) => m.id === req.params.model);
      if (!model) {
        throw new DetailedError(new AppError('NOT_FOUND', `The model '${String(req.params.model)}' does not exist`), { param: 'model', code: 'model_not_found' });
      }
      res.json(model);
    }),
  );
  return r;
}
