import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep parallelism modest so HTTPS tests are not starved.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/bench/**', 'test/e2e/**', 'node_modules/**'],
          // Tests that start a server from dist/ need a fresh build; done once per run.
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One control plane for every e2e file (test/e2e/cluster/global-setup.ts). The webhook
          // configurations are cluster-wide, so the files take turns.
          globalSetup: ['test/global-setup.ts', 'test/e2e/cluster/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
