import type { z } from 'zod';
import { FieldError } from '../rest/request-fields.ts';

/** A zod issue path as clients write it: `messages[1].content`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/**
 * A request part checked against the schema the API document shows for it: its output, or a
 * FieldError (400) saying what is wrong and naming the field (`param`).
 */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = paramOf([...issue.path, issue.keys[0] ?? '']);
    throw new FieldError(`Unrecognized request argument supplied: ${param}`, { param, code: 'unknown_parameter' });
  }
  const param = paramOf(issue.path);
  throw new FieldError(param ? `${param}: ${issue.message}` : issue.message, param ? { param } : {});
}
