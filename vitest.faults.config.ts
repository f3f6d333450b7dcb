import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: each file starts its own PostgreSQL and Redis servers
 * and real gateway and worker processes, then injects a fault. Files run one
 * after another: they are CPU-heavy, and a fault's timing must not depend on
 * another file's load.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    env: { NODE_ENV: 'test' },
  },
});
