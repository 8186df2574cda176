import { ClerkAuthConfigError } from './errors.js';

/**
 * A small key–value store with expiry, shared by every instance of an app that should share what it
 * learned from Clerk: opaque machine-token verifications (`createClerkAuth({ store })`) and webhook
 * idempotency (`clerk-api-auth/webhooks`). The in-memory default (`createMemoryStore`) is one
 * process's; `createRedisStore` from `clerk-api-auth/redis` is shared by every process using the same
 * Redis (or Valkey). Any other backend works by implementing these four methods.
 *
 * The package never trusts what it reads back: machine-token entries carry an HMAC keyed from the
 * secret key, keys are keyed hashes (no token or key is ever stored in clear), and every call is
 * bounded in time — a store that is down, slow or wrong only costs Backend API calls, it never makes
 * a token verify. Methods may reject; the package treats a rejection like a miss.
 *
 * @example
 * ```ts
 * import type { ClerkAuthStore } from 'clerk-api-auth';
 *
 * const entries = new Map<string, { value: string; until: number }>();
 * const live = (key: string) => {
 *   const entry = entries.get(key);
 *   return entry !== undefined && entry.until > Date.now() ? entry : undefined;
 * };
 * export const mapStore: ClerkAuthStore = {
 *   async get(key) { return live(key)?.value; },
 *   async set(key, value, ttlMs) { entries.set(key, { value, until: Date.now() + ttlMs }); },
 *   async setIfAbsent(key, value, ttlMs) {
 *     if (live(key)) return false;
 *     entries.set(key, { value, until: Date.now() + ttlMs });
 *     return true;
 *   },
 *   async deleteIfEquals(key, value) {
 *     if (live(key)?.value !== value) return false;
 *     return entries.delete(key);
 *   },
 * };
 * ```
 */
export interface ClerkAuthStore {
  /** The value stored under `key`, or `undefined` when there is none or it expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds (a whole number, at least 1), replacing any value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores `value` under `key` for `ttlMs` only if no live value is there; resolves whether it stored. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only if it holds `value` (releasing a lock this caller took); resolves whether it deleted. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
}

const METHODS = ['get', 'set', 'setIfAbsent', 'deleteIfEquals'] as const;

/**
 * Checks, at creation, that `value` is a `ClerkAuthStore` (an object with the four methods), naming
 * the option it came from.
 *
 * @internal
 */
export function validateStore(value: unknown, name: string): ClerkAuthStore {
  const missing =
    value === null || typeof value !== 'object' ? [...METHODS] : METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new ClerkAuthConfigError(
      `\`${name}\` must be a store with get, set, setIfAbsent and deleteIfEquals (createMemoryStore() from 'clerk-api-auth', or createRedisStore() from 'clerk-api-auth/redis'); ` +
        `${value === null || typeof value !== 'object' ? `got ${value === null ? 'null' : typeof value}` : `missing ${missing.join(', ')}`}.`,
    );
  }
  return value as ClerkAuthStore;
}
