import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites that share PostgreSQL and Redis run one file at a time (the machine has 2 cores).
    fileParallelism: false,
    // Skipped suites (a service missing outside CI) are listed, with the reason, at the end.
    globalSetup: ['../../tooling/testing/src/vitest-skips.ts'],
  },
});
