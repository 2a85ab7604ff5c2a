/**
 * `key.path: value` lines for every scalar, so values are searchable next to their keys.
 * Iterative, so deeply nested input cannot overflow the stack. Returns null for invalid JSON.
 */
export function jsonToText(text: string): string | null {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return null;
  }
  const lines: string[] = [];
  const stack: Array<{ path: string; value: unknown }> = [{ path: '', value: root }];
  while (stack.length > 0) {
    const { path, value } = stack.pop()!;
    if (value !== null && typeof value === 'object') {
      const entries = Array.isArray(value)
        ? value.map((v, i) => [`${path}[${i}]`, v] as const)
        : Object.entries(value).map(([k, v]) => [path === '' ? k : `${path}.${k}`, v] as const);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [childPath, child] = entries[i]!;
        stack.push({ path: childPath, value: child });
      }
    } else {
      const scalar = String(value);
      lines.push(path === '' ? scalar : `${path}: ${scalar}`);
    }
  }
  return lines.join('\n');
}
