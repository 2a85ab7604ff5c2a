import { statSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';

/** How many of quick_check's complaints go into the error message. */
const SHOWN_PROBLEMS = 5;

/**
 * `PRAGMA quick_check` at start-up: a file with damaged pages would otherwise open and answer
 * with rows missing (empty message lists) as if nothing were wrong. A damaged file stops
 * start-up with a message that says so; the file is left as it is for recovery. (quick_check
 * reads every page once, without the index-content checks of integrity_check: seconds for a
 * database of gigabytes.) Destroys `db` before throwing.
 */
export async function checkIntegrity<DB>(db: Kysely<DB>, filename: string): Promise<void> {
  let problems: string[];
  try {
    const { rows } = await sql<{ quick_check: string }>`pragma quick_check`.execute(db);
    problems = rows.map((r) => r.quick_check).filter((line) => line !== 'ok');
  } catch (err) {
    problems = [err instanceof Error ? err.message : String(err)];
  }
  if (problems.length === 0) return;
  await db.destroy().catch(() => undefined);
  throw new Error(
    `SQLite database ${filename} is damaged (PRAGMA quick_check: ${problems.slice(0, SHOWN_PROBLEMS).join('; ')}` +
      `${problems.length > SHOWN_PROBLEMS ? `; … ${problems.length - SHOWN_PROBLEMS} more` : ''}). ` +
      'Restore it from a backup (or recover it with the sqlite3 shell\'s .recover), or move it away to start with an empty database.',
  );
}

/**
 * For readiness: fails once the database file is no longer the one opened (deleted, or replaced
 * by another file under its name). SQLite keeps writing to the open file, so without this a
 * deleted database would go on taking writes that no restart will ever see.
 */
export function sameFileCheck(filename: string): (() => Promise<void>) | undefined {
  if (filename === ':memory:' || filename === '') return undefined;
  const opened = statSync(filename);
  return async () => {
    let now;
    try {
      now = statSync(filename);
    } catch {
      throw new Error(`the database file ${filename} was deleted`);
    }
    if (now.ino !== opened.ino || now.dev !== opened.dev) throw new Error(`the database file ${filename} was replaced by another file`);
  };
}
