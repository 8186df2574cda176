/**
 * What opaque machine-token verification (`ak_…`, `mt_…`, `oat_…`) cost this `ClerkAuth` since it
 * was created: counters only, never a token. Read them with `clerkAuth.metrics()`, e.g. to export to
 * your monitoring. Every opaque verification that reached the Backend API is one `backendApiCalls`;
 * everything else was answered without one.
 *
 * @example
 * ```ts
 * const { backendApiCalls, servedFromStore, rejectedFromStore } = clerkAuth.metrics();
 * console.log(`Backend API verifications: ${backendApiCalls}, answered from the store: ${servedFromStore + rejectedFromStore}`);
 * ```
 */
export interface MachineTokenMetrics {
  /** Verifications sent to the Backend API by this instance (each one is billed and counts against Clerk's rate limit). */
  readonly backendApiCalls: number;
  /** Accepted tokens answered from the store (verified by Clerk within `machineTokens.acceptedTtlMs`, by any instance). */
  readonly servedFromStore: number;
  /** Rejected tokens answered from the store (rejected by Clerk within `machineTokens.rejectedTtlMs`, by any instance). */
  readonly rejectedFromStore: number;
  /** Requests that shared a verification already in flight in this instance. */
  readonly joinedInFlight: number;
  /** Verifications answered after waiting for another instance's Backend API call (counted in `servedFromStore` / `rejectedFromStore` too). */
  readonly waitedForOtherInstance: number;
  /** Store calls that failed, timed out or returned an entry that did not open (each fell back to asking Clerk). */
  readonly storeFailures: number;
  /** Backend API answers of 429 (rate limited); requests are answered 503 with Clerk's `Retry-After` meanwhile. */
  readonly rateLimited: number;
  /** Verifications refused without a call because this instance's cap (`maxConcurrentVerifications`, `maxQueuedVerifications`) was reached, or Clerk asked to wait (429). */
  readonly refused: number;
}

/** The mutable counters behind `MachineTokenMetrics`. @internal */
export type MachineTokenCounters = { -readonly [K in keyof MachineTokenMetrics]: number };

/** Fresh counters, all zero. @internal */
export function zeroCounters(): MachineTokenCounters {
  return { backendApiCalls: 0, servedFromStore: 0, rejectedFromStore: 0, joinedInFlight: 0, waitedForOtherInstance: 0, storeFailures: 0, rateLimited: 0, refused: 0 };
}
