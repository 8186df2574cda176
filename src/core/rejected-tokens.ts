import type { SignedOutReason } from './reasons.js';

/** Options of `RejectedTokenCache`. @internal */
export interface RejectedTokenCacheOptions {
  /** How long a rejection is remembered, in ms; `0` turns the cache off. */
  ttlMs: number;
  /** Most rejections remembered; `0` turns the cache off. The oldest is forgotten first. */
  maxEntries: number;
}

const encoder = new TextEncoder();

/**
 * Opaque machine tokens the Backend API definitely rejected (unknown, revoked, expired, wrong
 * audience), remembered briefly so that a client repeating a bad token costs one Backend API call
 * per `ttlMs` instead of one per request. Only rejections are kept — an accepted token is asked
 * about every time, so revocation takes effect at once — and only definite ones: an outage, a
 * timeout or a 5xx says nothing about the token and is never remembered.
 *
 * Bounded by count (oldest first out; every entry lives equally long, so the oldest is also the
 * first to expire) and never consulted past its TTL. Entries are keyed by the token's SHA-256, so no
 * token is kept in clear and a long token costs no more memory than a short one.
 *
 * @internal
 */
export class RejectedTokenCache {
  private readonly entries = new Map<string, { reason: SignedOutReason; until: number }>();

  constructor(private readonly options: RejectedTokenCacheOptions) {}

  /** Whether the cache is on (a positive TTL and room for one entry). */
  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key of a token: its SHA-256, base64. */
  async keyOf(token: string): Promise<string> {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
    let binary = '';
    for (const byte of digest) binary += String.fromCharCode(byte);
    return btoa(binary);
  }

  /** The remembered rejection of a token key, if it is still within its TTL. */
  get(key: string, now = Date.now()): SignedOutReason | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.reason;
  }

  /** Remembers a definite rejection for `ttlMs`. */
  set(key: string, reason: SignedOutReason, now = Date.now()): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    // Expired entries sit at the front (insertion order is expiry order): drop them, then make room.
    for (const [oldest, entry] of this.entries) {
      if (now < entry.until && this.entries.size < this.options.maxEntries) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { reason, until: now + this.options.ttlMs });
  }
}
