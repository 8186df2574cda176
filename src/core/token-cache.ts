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
  result: AuthenticateResult;
  kind: TokenKind;
  until: number;
  bytes: number;
  /** Hit since it was (re)queued: spared once by eviction (CLOCK, the second-chance approximation of LRU). */
  used: boolean;
}

/**
 * Successfully verified tokens, keyed by the exact token string (so only the very same token hits),
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
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.entries.delete(token);
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
    const previous = this.entries.get(token);
    if (previous) {
      this.entries.delete(token);
      this.bytes -= previous.bytes;
    }
    const now = Date.now();
    while (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      const [key, entry] = oldest.value;
      this.entries.delete(key);
      if (entry.used && now < entry.until) {
        // Used since it was queued: requeue it once; every pass clears a flag, so this ends.
        entry.used = false;
        this.entries.set(key, entry);
        continue;
      }
      this.bytes -= entry.bytes;
    }
    this.entries.set(token, { result, kind, until, bytes, used: false });
    this.bytes += bytes;
  }
}
