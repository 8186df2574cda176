import type { AuthenticateResult, TokenKind } from './types.js';

/**
 * Options of the verified-token cache.
 *
 * @example
 * ```ts
 * createClerkAuth({ cache: { maxEntries: 50_000, maxBytes: 64 * 1024 * 1024 } });
 * createClerkAuth({ cache: false }); // verify every request
 * ```
 */
export interface TokenCacheOptions {
  /** Most tokens kept. Default 10,000. */
  maxEntries?: number;
  /** Most memory kept, estimated from token and claim sizes, in bytes. Default 16 MiB. */
  maxBytes?: number;
}

interface Entry {
  /** The whole token: a hit needs the very same string, not only the same key. */
  token: string;
  result: AuthenticateResult;
  kind: TokenKind;
  until: number;
  bytes: number;
  /** Hit since it was (re)queued: spared once by eviction (CLOCK, the second-chance approximation of LRU). */
  used: boolean;
}

/**
 * Successfully verified tokens; only the very same token string hits. Entries are keyed by the
 * token's last 43 characters (256 bits of an RSA signature, unique among verified tokens) and a hit
 * compares the whole token: hashing a 1 KB key on every request costs more than the rest of a cache hit.
 * A forged token that copies a cached token's tail finds the entry, fails the comparison, and is
 * verified like any other.
 *
 * bounded by count and estimated bytes, evicted least recently used first (approximated by CLOCK: a
 * hit only sets a flag, and eviction requeues flagged entries once). An entry never outlives the
 * token's `exp` plus the verification clock skew. Failures are never stored: only a token that passed
 * full verification can take a place, so garbage cannot evict or poison entries.
 *
 * @internal
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  readonly maxEntries: number;
  readonly maxBytes: number;

  constructor(options: TokenCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get(token: string, now: number): Entry | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (now >= entry.until) {
      this.entries.delete(key);
      this.bytes -= entry.bytes;
      return undefined;
    }
    entry.used = true; // a hit only flags the entry; reordering waits for eviction
    return entry;
  }

  set(token: string, result: AuthenticateResult, kind: TokenKind, until: number): void {
    if (!Number.isFinite(until) || this.maxEntries === 0) return;
    // The token string, its decoded claims (about three times the token's payload) and the auth object.
    const bytes = token.length * 4 + 1024;
    if (bytes > this.maxBytes) return;
    const key = keyOf(token);
    // A different token under the same key (never two verified ones, in practice) is replaced.
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= previous.bytes;
    }
    const now = Date.now();
    while (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      const [oldestKey, entry] = oldest.value;
      this.entries.delete(oldestKey);
      if (entry.used && now < entry.until) {
        // Used since it was queued: requeue it once; every pass clears a flag, so this ends.
        entry.used = false;
        this.entries.set(oldestKey, entry);
        continue;
      }
      this.bytes -= entry.bytes;
    }
    this.entries.set(key, { token, result, kind, until, bytes, used: false });
    this.bytes += bytes;
  }
}

/** A token's cache key: its last 43 characters (the whole token when it is short). */
function keyOf(token: string): string {
  return token.length > 64 ? token.slice(-43) : token;
}
