import { setTimeout as delay } from 'node:timers/promises';

/**
 * The one wait of the test suites: polls `check` (sync or async) until it returns a value other
 * than undefined or false, and resolves with it; fails after `timeoutMs`. Tests wait for the
 * condition they mean instead of sleeping and then checking.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  stepMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`waitFor: condition not met in ${timeoutMs} ms`);
    await delay(stepMs);
  }
}
