import { ClerkAuthConfigError } from './errors.js';
import type { ClerkAuthStore } from './store.js';

/**
 * Options of `createMemoryStore`.
 *
 * @example
 * ```ts
 * const store = createMemoryStore({ maxEntries: 50_000 });
 * ```
 */
export interface MemoryStoreOptions {
  /** Most entries kept; past it the oldest is forgotten first. Default 10,000; `0` keeps nothing. */
  maxEntries?: number;
}

/**
 * A `ClerkAuthStore` in this process's memory, what `createClerkAuth` uses when no `store` is given:
 * bounded by count (oldest first out), entries never read past their TTL. Shared by nothing outside
 * the process: for several instances, use a shared store (`createRedisStore` from
 * `clerk-api-auth/redis`).
 *
 * @example
 * ```ts
 * import { createClerkAuth, createMemoryStore } from 'clerk-api-auth';
 *
 * // One store for two ClerkAuth instances of one process (e.g. two routers with different defaults).
 * const store = createMemoryStore({ maxEntries: 20_000 });
 * const sessions = createClerkAuth({ store });
 * const machines = createClerkAuth({ store, acceptsToken: 'api_key' });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): ClerkAuthStore {
  const maxEntries = options.maxEntries ?? 10_000;
  if (typeof maxEntries !== 'number' || !Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new ClerkAuthConfigError(`\`maxEntries\` of createMemoryStore must be a non-negative whole number (0 keeps nothing); got ${String(maxEntries)}.`);
  }
  // Insertion order is the eviction order; a replaced key moves to the back.
  const entries = new Map<string, { value: string; until: number }>();

  const live = (key: string, now: number): string | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      entries.delete(key);
      return undefined;
    }
    return entry.value;
  };

  const put = (key: string, value: string, ttlMs: number, now: number): void => {
    entries.delete(key);
    if (maxEntries === 0 || !(ttlMs > 0)) return;
    // Oldest first out, in constant time per entry (a flood of distinct keys costs no scan).
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
    entries.set(key, { value, until: now + ttlMs });
  };

  return {
    async get(key) {
      return live(key, Date.now());
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs, Date.now());
    },
    async setIfAbsent(key, value, ttlMs) {
      const now = Date.now();
      if (live(key, now) !== undefined) return false;
      put(key, value, ttlMs, now);
      return entries.has(key);
    },
    async deleteIfEquals(key, value) {
      if (live(key, Date.now()) !== value) return false;
      return entries.delete(key);
    },
  };
}
