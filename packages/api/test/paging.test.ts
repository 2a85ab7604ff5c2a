import { describe, expect, it } from 'vitest';
import { decodeAfterIdCursor, decodeConversationCursor, decodeMessageCursor, encodeCursor } from '../src/schemas/cursor.ts';
import { rowsFor, toPage } from '../src/schemas/page.ts';
import { AppError } from '../src/errors/app-error.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i + 1}`);
const cursorOf = (edge: string) => `after:${edge}`;

describe('toPage', () => {
  it('asks for one row more than the page holds', () => {
    expect(rowsFor(20)).toBe(21);
  });
  it('forwards: a full page with a row beyond it has a cursor at its last item', () => {
    expect(toPage(ids(4), 3, (r) => r.toUpperCase(), cursorOf)).toEqual({ items: ['M1', 'M2', 'M3'], nextCursor: 'after:m3' });
  });
  it('forwards: exactly a page, or less, is the last page', () => {
    expect(toPage(ids(3), 3, (r) => r, cursorOf)).toEqual({ items: ids(3), nextCursor: null });
    expect(toPage(ids(1), 3, (r) => r, cursorOf)).toEqual({ items: ['m1'], nextCursor: null });
    expect(toPage([], 3, (r) => r, cursorOf)).toEqual({ items: [], nextCursor: null });
  });
  it('backwards: the extra row is the first; the cursor is at the page’s first (oldest) item', () => {
    expect(toPage(ids(4), 3, (r) => r, cursorOf, 'backwards')).toEqual({ items: ['m2', 'm3', 'm4'], nextCursor: 'after:m2' });
    expect(toPage(ids(3), 3, (r) => r, cursorOf, 'backwards')).toEqual({ items: ids(3), nextCursor: null });
    expect(toPage(ids(2), 3, (r) => r, cursorOf, 'backwards')).toEqual({ items: ['m1', 'm2'], nextCursor: null });
  });
});

describe('cursors', () => {
  it('round-trip: conversation, after-id and message cursors', () => {
    expect(decodeConversationCursor(encodeCursor({ updatedAt: 5, id: 'c', userId: 'u' }))).toEqual({ updatedAt: 5, id: 'c', userId: 'u' });
    expect(decodeConversationCursor(encodeCursor({ updatedAt: 5, id: 'c' }))).toEqual({ updatedAt: 5, id: 'c' });
    expect(decodeAfterIdCursor(encodeCursor({ afterId: 'f1' }))).toBe('f1');
    expect(decodeMessageCursor(encodeCursor({ beforeId: 'm1' }))).toEqual({ beforeId: 'm1' });
    expect(decodeMessageCursor(encodeCursor({ afterId: 'm1' }))).toEqual({ afterId: 'm1' });
  });
  it('a cursor that is not one of ours is a 400', () => {
    for (const bad of ['%%%', encodeCursor({ afterId: 'x' }).slice(1), Buffer.from('[1]').toString('base64url')]) {
      expect(() => decodeConversationCursor(bad)).toThrow(AppError);
    }
    expect(() => decodeAfterIdCursor(encodeCursor({ updatedAt: 1, id: 'c' }))).toThrow(/Invalid cursor/);
  });
});
