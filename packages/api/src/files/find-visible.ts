import type { FileSummary } from '@colloquy/store';
import { isVisible, type Actor, type Context } from '../context.ts';
import { notFound } from '../errors/app-error.ts';

export async function findVisibleFile(ctx: Context, actor: Actor, id: string): Promise<FileSummary> {
  const file = await ctx.services.store.files.getSummary(id);
  if (!file || !isVisible(actor, file.userId)) throw notFound('File');
  return file;
}
