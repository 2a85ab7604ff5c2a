import type { Compilable, CompiledQuery } from 'kysely';

/** Stands for one argument value while a query is built; no stored value starts with a NUL. */
const MARK = '\u0000colloquy-arg:';

interface Template<Row> {
  compiled: CompiledQuery<Row>;
  /** For each parameter of the SQL: the argument value it takes, or -1 for a constant (e.g. a limit). */
  slots: number[];
}

/**
 * A query whose shape depends only on which values it is given, built and compiled by Kysely
 * once per shape and then re-run with new values.
 *
 * Kysely builds every query as a tree of frozen nodes and compiles it to SQL on each call (it has
 * no prepared-query API); for the few statements of every conversation turn that costs about as
 * much as SQLite executing them. Here the query is built with marker strings in place of the
 * values, the parameter slot each marker landed in is noted, and each call copies its values
 * into those slots. Values are the arguments, or the fields of arguments that are plain objects
 * (rows); an undefined field is part of the shape (Kysely leaves such a column out). Every value
 * must be one SQL parameter as given: strings, numbers, null (JSON already stringified).
 */
export function reusableQuery<Args extends unknown[], Row>(
  build: (...args: Args) => Compilable<Row>,
): (...args: Args) => CompiledQuery<Row> {
  const templates = new Map<string, Template<Row>>();
  return (...args) => {
    const values: unknown[] = [];
    let shape = '';
    for (const arg of args) {
      if (isRow(arg)) {
        for (const key in arg) {
          const v = arg[key];
          shape += v === undefined ? `${key}?,` : `${key},`;
          if (v !== undefined) values.push(v);
        }
        shape += '|';
      } else {
        shape += arg === undefined ? '?|' : '·|';
        if (arg !== undefined) values.push(arg);
      }
    }
    let template = templates.get(shape);
    if (!template) {
      template = compileTemplate(build, args);
      templates.set(shape, template);
    }
    const { compiled, slots } = template;
    const parameters = slots.map((slot, i) => (slot < 0 ? compiled.parameters[i] : values[slot]));
    return { query: compiled.query, queryId: compiled.queryId, sql: compiled.sql, parameters };
  };
}

function compileTemplate<Args extends unknown[], Row>(build: (...args: Args) => Compilable<Row>, args: Args): Template<Row> {
  let n = 0;
  const mark = () => `${MARK}${n++}`;
  const marked = args.map((arg) => {
    if (!isRow(arg)) return arg === undefined ? undefined : mark();
    const row: Record<string, unknown> = {};
    for (const key in arg) row[key] = arg[key] === undefined ? undefined : mark();
    return row;
  }) as Args;
  const compiled = build(...marked).compile();
  const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
  for (let i = 0; i < n; i++) {
    // A value Kysely did not pass through as a parameter (inlined, or expanded): not reusable.
    if (!slots.includes(i)) throw new Error(`reusableQuery: value ${i} is not a parameter of ${compiled.sql}`);
  }
  return { compiled, slots };
}

function isRow(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
