import type { ConversationCursor } from '@colloquy/store';
import { AppError } from '../errors/app-error.ts';

/** Opaque page cursors: base64url JSON, so clients cannot depend on their layout. */
export function encodeCursor(value: ConversationCursor | { afterId: string } | { beforeId: string }): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeConversationCursor(cursor: string): ConversationCursor {
  const v = decode(cursor);
  if (typeof v === 'object' && v !== null && 'updatedAt' in v && 'id' in v && typeof v.updatedAt === 'number' && typeof v.id === 'string') {
    const userId = 'userId' in v && typeof v.userId === 'string' ? v.userId : undefined;
    return userId === undefined ? { updatedAt: v.updatedAt, id: v.id } : { updatedAt: v.updatedAt, id: v.id, userId };
  }
  throw new AppError('BAD_REQUEST', 'Invalid cursor');
}

export function decodeAfterIdCursor(cursor: string): string {
  const v = decode(cursor);
  if (typeof v === 'object' && v !== null && 'afterId' in v && typeof v.afterId === 'string') return v.afterId;
  throw new AppError('BAD_REQUEST', 'Invalid cursor');
}

/** A message page's cursor: forwards after a message, or backwards before one. */
export function decodeMessageCursor(cursor: string): { afterId: string } | { beforeId: string } {
  const v = decode(cursor);
  if (typeof v === 'object' && v !== null && 'beforeId' in v && typeof v.beforeId === 'string') return { beforeId: v.beforeId };
  return { afterId: decodeAfterIdCursor(cursor) };
}

function decode(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('BAD_REQUEST', 'Invalid cursor');
  }
}
