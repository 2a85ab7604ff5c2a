import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: gives the run a file where skipped suites are noted (`noteSkipped`),
 * and at the end of the run prints every skipped suite with its reason.
 */
export default function setup(): () => void {
  const file = join(tmpdir(), `colloquy-skips-${process.pid}-${Date.now()}.log`);
  process.env.COLLOQUY_SKIP_LOG = file;
  return () => {
    if (!existsSync(file)) return;
    const seen = new Set<string>();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { suite: string; reason: string })
      .filter((s) => !seen.has(s.suite) && seen.add(s.suite));
    rmSync(file, { force: true });
    if (lines.length === 0) return;
    const bar = '!'.repeat(78);
    console.warn(`\n${bar}\n!! SKIPPED (${lines.length}):\n${lines.map((s) => `!!   ${s.suite}: ${s.reason}`).join('\n')}\n${bar}\n`);
  };
}
