import type { MachineVerificationResult } from './machine-verification.js';
import type { MachineTokenCounters } from './metrics.js';
import { SignedOutReason } from './reasons.js';
import type { ClerkAuthStore } from './store.js';
import { STORE_FAILED, storeCall } from './store-call.js';
import type { StoreSeal } from './store-seal.js';
import type { MachineTokenType } from './types.js';

/** What the store can say about a token: Clerk accepted it (its verification result), or definitely rejected it. @internal */
export type StoredVerification = { data: MachineVerificationResult } | { reason: SignedOutReason };

/** Options of `SharedVerifications`. @internal */
export interface SharedVerificationOptions {
  /** How long an accepted token is answered from the store, in ms (never past its expiration); `0` stores none. */
  acceptedTtlMs: number;
  /** How long a definite rejection is answered from the store, in ms; `0` stores none. */
  rejectedTtlMs: number;
  /** Longest wait for one store call, in ms; past it the call counts as failed. */
  timeoutMs: number;
  /**
   * Longest wait for another instance verifying the same token (a short set-if-absent lock), in ms;
   * `0` takes no lock (every instance asks on its own miss).
   */
  sharedWaitMs: number;
  /** How long a lock is held at most, in ms (covers the holder's queue wait and Backend API call). */
  lockTtlMs: number;
  /** Configuration that changes a verification's answer (the audience), folded into every name: instances configured differently never share. */
  context: string;
}

/** Rejections about the token itself, the only ones ever stored (an outage says nothing about a token). */
const DEFINITE_REJECTIONS: ReadonlySet<string> = new Set<SignedOutReason>([SignedOutReason.TokenInvalid, SignedOutReason.TokenVerificationFailed]);
/** After a store call failed (down, timed out), the store is left alone this long: requests go to Clerk at once. */
const STORE_BACKOFF_MS = 1000;
/** Slack allowed between instances' clocks when checking how old a sealed verification is. */
const CLOCK_SLACK_MS = 1000;
const POLL_DELAYS_MS = [5, 10, 20, 40, 50];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Sealed {
  /** kind */
  k: MachineTokenType;
  /** when Clerk was asked, ms since the epoch */
  t: number;
  /** until, ms since the epoch */
  u: number;
  /** the verification result, when accepted */
  d?: MachineVerificationResult;
  /** the reason, when rejected */
  r?: SignedOutReason;
}

/**
 * Opaque machine-token verifications shared through a `ClerkAuthStore`, so that every instance using
 * one store asks the Backend API about a token at most about once per TTL between them.
 *
 * - Keys are keyed hashes of the token (`mt:<hmac>`), values are sealed (`StoreSeal`): nothing in the
 *   store names a token, and nothing written to it by anyone else can make a token verify.
 * - Accepted tokens are kept `acceptedTtlMs` (never past their expiration), definite rejections
 *   `rejectedTtlMs`. Outages, timeouts, 429s and refused secret keys are never stored.
 * - Concurrent misses on several instances: the first takes a short lock (`setIfAbsent`) and asks
 *   Clerk; the others poll the store for its answer for up to `sharedWaitMs`, taking the lock over if
 *   it is released without an answer, then ask Clerk themselves.
 * - Every store call is bounded by `timeoutMs`; a failed one is a miss (the token is asked of
 *   Clerk), and the store is then skipped for a second so an outage costs no waiting per request.
 *
 * @internal
 */
export class SharedVerifications {
  private skipUntil = 0;
  /** A unique value for this instance's locks, so it only ever releases its own. */
  private readonly owner = crypto.randomUUID();

  constructor(
    private readonly store: ClerkAuthStore,
    private readonly seal: Promise<StoreSeal>,
    private readonly options: SharedVerificationOptions,
    private readonly counters: MachineTokenCounters,
  ) {}

  /** Whether concurrent misses on several instances coordinate through a lock. */
  get coordinates(): boolean {
    return this.options.sharedWaitMs > 0;
  }

  /** The store key of a token of `kind`: a keyed hash, never the token. */
  async keyOf(kind: MachineTokenType, token: string): Promise<string> {
    return `mt:${await (await this.seal).name(`${kind}\n${this.options.context}\n${token}`)}`;
  }

  /** What the store knows about a token, if it is usable: sealed by this app, of this kind, within its TTL. */
  async read(key: string, kind: MachineTokenType): Promise<StoredVerification | undefined> {
    const value = await this.call(() => this.store.get(key));
    if (value === STORE_FAILED || value === undefined || value === null) return undefined;
    const opened = await this.open(key, kind, value);
    if (opened === 'untrusted') this.counters.storeFailures += 1;
    if (opened === 'untrusted' || opened === undefined) return undefined;
    if ('data' in opened) this.counters.servedFromStore += 1;
    else this.counters.rejectedFromStore += 1;
    return opened;
  }

  /** Stores what Clerk said, when it is about the token: accepted (until its TTL or expiration) or definitely rejected. */
  async write(key: string, kind: MachineTokenType, outcome: StoredVerification): Promise<void> {
    const now = Date.now();
    let until: number;
    if ('data' in outcome) {
      if (this.options.acceptedTtlMs <= 0) return;
      const expiration = outcome.data.expiration;
      until = Math.min(now + this.options.acceptedTtlMs, typeof expiration === 'number' ? expiration : Number.POSITIVE_INFINITY);
    } else {
      if (this.options.rejectedTtlMs <= 0 || !DEFINITE_REJECTIONS.has(outcome.reason)) return;
      until = now + this.options.rejectedTtlMs;
    }
    const ttlMs = Math.floor(until - now);
    if (ttlMs < 1) return;
    const sealed: Sealed = 'data' in outcome ? { k: kind, t: now, u: until, d: outcome.data } : { k: kind, t: now, u: until, r: outcome.reason };
    const value = await (await this.seal).seal(key, JSON.stringify(sealed));
    await this.call(() => this.store.set(key, value, ttlMs));
  }

  /** Takes the lock on a token's verification: `acquired`, `held` (by another caller), or `failed` (the store did not answer). */
  async lock(key: string): Promise<'acquired' | 'held' | 'failed'> {
    const taken = await this.call(() => this.store.setIfAbsent(`${key}:lock`, this.owner, Math.ceil(this.options.lockTtlMs)));
    return taken === STORE_FAILED ? 'failed' : taken === true ? 'acquired' : 'held';
  }

  /** Releases this instance's lock (never another's). */
  async release(key: string): Promise<void> {
    await this.call(() => this.store.deleteIfEquals(`${key}:lock`, this.owner));
  }

  /**
   * Waits for the instance holding the lock to store its answer: the answer, `acquired` when the lock
   * came free without one (this caller now holds it), or `undefined` when the wait ran out or the
   * store failed (ask Clerk directly).
   */
  async waitForOther(key: string, kind: MachineTokenType): Promise<StoredVerification | 'acquired' | undefined> {
    const deadline = Date.now() + this.options.sharedWaitMs;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)] as number, left));
      const stored = await this.read(key, kind);
      if (stored !== undefined) {
        this.counters.waitedForOtherInstance += 1;
        return stored;
      }
      if (this.skipping()) return undefined;
      const lock = await this.lock(key);
      if (lock === 'acquired') return 'acquired';
      if (lock === 'failed') return undefined;
    }
  }

  private skipping(): boolean {
    return Date.now() < this.skipUntil;
  }

  /** One bounded store call; a failure is counted and the store skipped for a moment. */
  private async call<T>(run: () => Promise<T>): Promise<T | typeof STORE_FAILED> {
    if (this.skipping()) return STORE_FAILED;
    const result = await storeCall(run, this.options.timeoutMs);
    if (result === STORE_FAILED) {
      this.counters.storeFailures += 1;
      this.skipUntil = Date.now() + STORE_BACKOFF_MS;
    }
    return result;
  }

  /**
   * An entry's verification, if it may be used now; `untrusted` when the value is not one this app
   * sealed for this key (altered, moved, foreign, garbage); `undefined` when it is, but is not for
   * now (past its `until`, or kept longer than this instance's own TTL allows).
   */
  private async open(key: string, kind: MachineTokenType, value: unknown): Promise<StoredVerification | 'untrusted' | undefined> {
    const payload = await (await this.seal).open(key, value);
    if (payload === undefined) return 'untrusted';
    let sealed: Sealed;
    try {
      sealed = JSON.parse(payload) as Sealed;
    } catch {
      return 'untrusted';
    }
    const now = Date.now();
    if (sealed === null || typeof sealed !== 'object' || sealed.k !== kind || typeof sealed.u !== 'number' || typeof sealed.t !== 'number') return 'untrusted';
    // Past its until, or verified longer ago than this instance's own TTL allows (whatever TTL the writer had).
    const fresh = (ttlMs: number) => ttlMs > 0 && sealed.u > now && sealed.t <= now + CLOCK_SLACK_MS && now - sealed.t < ttlMs + CLOCK_SLACK_MS;
    if (sealed.r !== undefined) {
      if (!DEFINITE_REJECTIONS.has(sealed.r)) return 'untrusted';
      return fresh(this.options.rejectedTtlMs) ? { reason: sealed.r } : undefined;
    }
    const data = sealed.d;
    if (data === undefined || data === null || typeof data !== 'object' || typeof data.id !== 'string' || typeof data.subject !== 'string' || !Array.isArray(data.scopes)) return 'untrusted';
    // Never past the token's own expiration either.
    if (!fresh(this.options.acceptedTtlMs) || (typeof data.expiration === 'number' && data.expiration <= now)) return undefined;
    return { data };
  }
}
