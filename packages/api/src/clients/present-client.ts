import type { ClientRecord } from '@colloquy/store';
import { toIso } from '../schemas/common.ts';
import type { ClientInfo } from './clients.types.ts';

export const presentClient = (c: ClientRecord): ClientInfo => ({
  id: c.id,
  userId: c.userId,
  kind: c.kind,
  name: c.name,
  ip: c.ip,
  userAgent: c.userAgent,
  metadata: c.metadata,
  connectedAt: toIso(c.connectedAt),
  lastSeen: toIso(c.lastSeen),
  openStreams: c.openStreams,
  publishing: c.publishing,
});
