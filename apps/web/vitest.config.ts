import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The page answers in well under a second on a quiet machine; `pnpm test` runs two packages'
    // suites side by side on two cores, so a poll waits up to 10 s (vitest's default is 1 s).
    expect: { poll: { timeout: 10_000 } },
    globalSetup: ['../../tooling/testing/src/vitest-skips.ts'],
  },
});
