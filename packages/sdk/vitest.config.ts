import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Skipped suites (Chromium missing outside CI) are listed, with the reason, at the end.
    globalSetup: ['../../tooling/testing/src/vitest-skips.ts'],
    // Type tests (*.test-d.ts) are checked by tsc: expectTypeOf and @ts-expect-error.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
