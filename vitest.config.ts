import { defineConfig } from 'vitest/config';

// Tests sit beside their modules (`name.test.ts`); cross-cutting suites live in test/.
// Process- and socket-level tests spawn real processes, so they get generous timeouts.
export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'operator/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts', 'devcluster/**/*.test.ts', 'charts/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
