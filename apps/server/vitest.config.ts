import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers and child processes; on 2 cores running them one file at a
    // time keeps timings (stream flushes, restarts) far from their limits.
    fileParallelism: false,
    // Skipped suites (a service or Chromium missing outside CI) are listed, with the reason, at the end.
    globalSetup: ['../../tooling/testing/src/vitest-skips.ts'],
  },
});
