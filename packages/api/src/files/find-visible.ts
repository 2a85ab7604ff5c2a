import type { FileRecord } from '@colloquy/store';
import { isVisible, type Actor, type Context } from '../context.ts';
import { notFound } from '../errors/app-error.ts';

export async function findVisibleFile(ctx: Context, actor: Actor, id: string): Promise<FileRecord> {
  const file = await ctx.services.store.files.get(id);
  if (!file || !isVisible(actor, file.userId)) throw notFound('File');
  return file;
}
