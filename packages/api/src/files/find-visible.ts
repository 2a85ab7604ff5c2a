import type { FileSummary } from '@colloquy/store';
import type { Store } from '@colloquy/store';
import { isVisible, type Actor } from '../access.ts';
import { notFound } from '../errors/app-error.ts';

export async function findVisibleFile(store: Store, actor: Actor, id: string): Promise<FileSummary> {
  const file = await store.files.getSummary(id);
  if (!file || !isVisible(actor, file.userId)) throw notFound('File');
  return file;
}
