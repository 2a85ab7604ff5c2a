/**
 * Which library talks to the SQLite file. Two share one API (better-sqlite3's) and one file
 * format, so the store runs unchanged on either:
 *
 * - `better-sqlite3` is the faster one, but a native addon that is built at install time
 *   (prebuilt binaries come from GitHub, else a compiler and Node's headers are needed). It is
 *   an optional dependency: where its build fails, the install still finishes without it.
 * - `libsql` ships its prebuilt binary as a per-platform package of the npm registry itself, so
 *   it installs everywhere `pnpm install` does.
 *
 * `auto` takes better-sqlite3 when its native binding loads, else libsql.
 */

export const SQLITE_DRIVERS = ['better-sqlite3', 'libsql'] as const;
export type SqliteDriverName = (typeof SQLITE_DRIVERS)[number];
export type SqliteDriverChoice = 'auto' | SqliteDriverName;
export const SQLITE_DRIVER_CHOICES = ['auto', ...SQLITE_DRIVERS] as const satisfies readonly SqliteDriverChoice[];

/** What the store uses of a statement: the subset better-sqlite3 and libsql share (and Kysely's SqliteDialect needs). */
export interface SqliteStatement {
  /** True when the statement returns rows (a SELECT, or a write with RETURNING). */
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

/** What the store uses of an open database: the subset better-sqlite3 and libsql share. */
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  /** `PRAGMA <source>`; returns the rows. */
  pragma(source: string): unknown;
  close(): unknown;
}

export type SqliteConstructor = new (filename: string) => SqliteConnection;

export interface SqliteDriver {
  name: SqliteDriverName;
  /** Opens (creating if needed) a database file, or ':memory:', with the store's settings applied. */
  open(filename: string): SqliteConnection;
  /** Under `auto`, why better-sqlite3 was not taken; undefined when it was, or when a driver was named. */
  fallbackReason?: string;
}

/** A named driver cannot be loaded: start-up stops with this message. */
export class SqliteDriverError extends Error {
  override readonly name = 'SqliteDriverError';
}

/** Imports a driver's module; each import stays inside its function so a missing optional package costs nothing until asked for. */
export type SqliteModuleLoader = (name: SqliteDriverName) => Promise<SqliteConstructor>;

const importDriverModule: SqliteModuleLoader = async (name) =>
  name === 'better-sqlite3' ? (await import('better-sqlite3')).default : (await import('libsql')).default;

/**
 * Loads a driver and proves its native binding works by opening an in-memory database: a
 * package whose build failed still imports (better-sqlite3 looks for its binding only when a
 * database is opened), and a binding built for another Node version fails only then.
 */
async function loadDriver(name: SqliteDriverName, load: SqliteModuleLoader): Promise<SqliteConstructor> {
  const Database = await load(name);
  new Database(':memory:').close();
  return Database;
}

const loaded = new Map<string, Promise<SqliteDriver>>();

/**
 * The driver for a SQLITE_DRIVER choice, loaded once per process. A named driver that does
 * not load is a SqliteDriverError; `auto` falls back to libsql and says why.
 * `load` replaces the module import (tests use it to stand for a machine without a driver).
 */
export function loadSqliteDriver(choice: SqliteDriverChoice = 'auto', load?: SqliteModuleLoader): Promise<SqliteDriver> {
  if (load) return resolveDriver(choice, load);
  let driver = loaded.get(choice);
  if (!driver) {
    driver = resolveDriver(choice, importDriverModule);
    // A failure is not cached: the next attempt tries again (and reports the same reason).
    driver.catch(() => loaded.delete(choice));
    loaded.set(choice, driver);
  }
  return driver;
}

async function resolveDriver(choice: SqliteDriverChoice, load: SqliteModuleLoader): Promise<SqliteDriver> {
  if (choice !== 'auto') {
    try {
      return driverOf(choice, await loadDriver(choice, load));
    } catch (err) {
      throw new SqliteDriverError(
        `SQLITE_DRIVER=${choice}, but ${choice} cannot be loaded: ${reasonOf(err)}.` +
          (choice === 'better-sqlite3'
            ? ' Its native addon is built at install time (prebuilt binaries come from GitHub, else python3, make, g++ and' +
              " Node's headers are needed; `pnpm rebuild better-sqlite3` retries); or set SQLITE_DRIVER=auto to use libsql."
            : ''),
      );
    }
  }
  let fallbackReason: string;
  try {
    return driverOf('better-sqlite3', await loadDriver('better-sqlite3', load));
  } catch (err) {
    fallbackReason = reasonOf(err);
  }
  try {
    return { ...driverOf('libsql', await loadDriver('libsql', load)), fallbackReason };
  } catch (err) {
    throw new SqliteDriverError(
      `No SQLite driver can be loaded: better-sqlite3 (${fallbackReason}); libsql (${reasonOf(err)}). Run \`pnpm install\`.`,
    );
  }
}

function driverOf(name: SqliteDriverName, Database: SqliteConstructor): SqliteDriver {
  return { name, open: (filename) => configure(new Database(filename)) };
}

/** The settings every connection gets, whichever the driver. */
function configure(sqlite: SqliteConnection): SqliteConnection {
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
    // last commits, which is the usual trade-off for a gateway's write rate.
    sqlite.pragma('synchronous = NORMAL');
    // libsql opens with no busy timeout, better-sqlite3 with 5 s: set it for both.
    sqlite.pragma('busy_timeout = 5000');
    return sqlite;
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/**
 * The first line of an error's message (the addon loaders' messages run on with require stacks
 * and every path tried), and the line after it when the first ends in a colon ("Tried:").
 */
function reasonOf(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter(Boolean);
  const [first = 'unknown error', second] = lines;
  return first.endsWith(':') && second ? `${first} ${second}` : first;
}
