import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests open real sockets on loopback; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
