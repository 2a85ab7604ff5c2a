import type { ClientInfo } from '@colloquy/api';
import { Router } from 'express';
import { z } from 'zod';
import type { CallerFor } from './caller.ts';
import { parseRest, restRequest } from './parse-rest.ts';
import { restHandler } from './rest-handler.ts';
import { restSchemas, toUnixSeconds, userFields } from './schemas.ts';

export const clientListRequest = restRequest({
  from: 'query',
  schema: z.object({
    ...userFields,
    user: userFields.user.describe('Only this user’s clients (a user key always sees only its own)'),
  }),
});

export const restClientSchema = z.object({
  id: z.string().describe('The client id (watch its video at /live/{id})'),
  user: z.string(),
  kind: z.string().describe('sdk, console, video, … as the client declared'),
  name: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  connected_at: z.number().int().describe('Unix time in seconds'),
  last_seen: z.number().int().describe('Unix time in seconds of the last heartbeat, request or frame'),
  open_streams: z.number().int().nonnegative().describe('Answer streams the client has open'),
  publishing: z.boolean().describe('Whether it publishes live video'),
});
restSchemas.add(restClientSchema, { id: 'Client', description: 'A connected client.' });

export const clientListSchema = z.object({ count: z.number().int().nonnegative(), clients: z.array(restClientSchema) });
restSchemas.add(clientListSchema, { id: 'ClientList', description: 'The connected clients the caller may see, oldest connection first.' });

export const toRestClient = (c: ClientInfo): z.infer<typeof restClientSchema> => ({
  id: c.id,
  user: c.userId,
  kind: c.kind,
  name: c.name,
  ip: c.ip,
  user_agent: c.userAgent,
  metadata: c.metadata,
  connected_at: toUnixSeconds(c.connectedAt),
  last_seen: toUnixSeconds(c.lastSeen),
  open_streams: c.openStreams,
  publishing: c.publishing,
});

/** `GET /get_client_list`: the seed's "number of clients and their details". */
export function clientListRoute(callerFor: CallerFor): Router {
  const r = Router();
  r.get(
    '/get_client_list',
    restHandler('获取客户端列表失败', async (req, res) => {
      const fields = parseRest(clientListRequest, req);
      const { clients } = await callerFor(req).clients.list({ user: fields.user });
      res.json({ count: clients.length, clients: clients.map(toRestClient) } satisfies z.infer<typeof clientListSchema>);
    }),
  );
  return r;
}
