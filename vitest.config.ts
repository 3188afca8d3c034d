import { defineConfig } from 'vitest/config';

/** The pure modules, which hold at least this share of their lines covered (`npm test` fails below it). */
const pureLineThreshold = 95;
const pureModules = [
  'operator/render/**',
  'operator/rollout/**',
  'operator/decide/**',
  'operator/ownership/**',
  'operator/analysis/verdict.ts',
  'operator/analysis/comparison-verdict.ts',
  'operator/analysis/mann-whitney.ts',
  'operator/analysis/distribution.ts',
  'operator/analysis/window-report.ts',
  'engine/indicators/**',
  'engine/wire/**',
  'engine/risk/**',
  'dashboard/server/engine-view.ts',
];

// Tests sit beside their modules (`name.test.ts`); cross-cutting suites live in test/.
// Process- and socket-level tests spawn real processes, so they get generous timeouts.
// Coverage (v8) is collected when asked for (`npm test` passes --coverage): line and branch coverage per folder,
// and the threshold above per pure module; code run in spawned processes and worker threads is not counted.
export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'operator/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts', 'devcluster/**/*.test.ts', 'charts/**/*.test.ts', 'dashboard/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    coverage: {
      provider: 'v8',
      include: ['engine/**/*.ts', 'operator/**/*.ts', 'cli/**/*.ts', 'devcluster/**/*.ts', 'dashboard/**/*.ts'],
      exclude: ['**/*.test.ts', '**/fixtures/**', 'dashboard/web/**'],
      reporter: [['text', { skipFull: true }], 'text-summary'],
      thresholds: Object.fromEntries(pureModules.map((glob) => [glob, { lines: pureLineThreshold }])),
    },
  },
});
