/**
 * The long runs, kept out of `npm test`: sustained load through both reference servers and the
 * 100,000-case fuzz of `authenticate()`, one file at a time so they do not compete for the CPU.
 *
 *   npm run test:stress           (CLERK_API_AUTH_STRESS_SECONDS sets the load duration, default 180)
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/stress/**/*.stress.ts', 'test/core/fuzz.test.ts'],
    typecheck: { enabled: false },
    fileParallelism: false,
    env: { ...base.test?.env, CLERK_API_AUTH_FUZZ_RUNS: process.env.CLERK_API_AUTH_FUZZ_RUNS ?? '100000' },
    testTimeout: 480_000,
    hookTimeout: 180_000,
  },
});
