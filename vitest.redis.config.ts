/**
 * The shared-store suite against a real Redis, kept out of `npm test` (which runs the in-memory
 * store): `npm run test:redis` installs and starts redis-server on loopback, then runs
 * `test/redis/**\/*.redis.ts` one file at a time (they start server processes of their own).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/redis/**/*.redis.ts'],
    typecheck: { enabled: false },
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
