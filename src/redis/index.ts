/**
 * A shared store in Redis (or Valkey) for every instance of an app: opaque machine-token
 * verifications (`createClerkAuth({ store })`) and webhook idempotency (`clerk-api-auth/webhooks`).
 * Needs node-redis (`npm install redis`), an optional peer dependency of this package.
 *
 * @packageDocumentation
 */
export { createRedisStore } from './redis-store.js';
export type { RedisStore, RedisStoreClient, RedisStoreOptions } from './redis-store.js';
