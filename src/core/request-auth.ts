import { authenticateSettled, type ClerkAuth } from './create-clerk-auth.js';
import { expiredResult, isExpired } from './expiry.js';
import { accepts } from './options.js';
import { SignedOutReason } from './reasons.js';
import type { AcceptsToken, AuthenticateInput, AuthenticateResult } from './types.js';
import { signedOut } from './verify.js';

/**
 * One request's credential, verified at most once and only as far as a guard needs it. This is how
 * every integration authenticates:
 *
 * - `session()` is Clerk's default view, what `ctx.auth` shows: a session token is verified (locally,
 *   and cached); a token of any other kind is `token-type-mismatch` with nothing verified — in
 *   particular an opaque machine token (`ak_`, `mt_`, `oat_`) costs no Backend API call.
 * - `accepting(kinds)` is what a guard that accepts `kinds` sees. An opaque token is sent to the
 *   Backend API only when its kind is accepted, so an anonymous caller cannot spend the instance's
 *   Clerk rate limit by sending garbage `Bearer ak_…` to a public route. Once the credential verified,
 *   every later ask of the same request reuses it.
 * - Every answer is checked against the credential's expiry at the moment of asking: a long-lived
 *   connection authenticated once is decided per operation, and an operation after expiry sees the
 *   caller signed out (`token-expired`).
 *
 * @internal
 */
export interface RequestAuth {
  /** Clerk's default view: the session, or signed out (`tokenType` session) with a reason. */
  session(): AuthenticateResult | Promise<AuthenticateResult>;
  /** The result for a guard that accepts `kinds`; settles without a promise when nothing must be verified. */
  accepting(kinds: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult>;
  /**
   * `accepting(kinds)` if it is known without waiting, else `undefined` — and then its verification
   * has started; `accepting(kinds)` awaits it. For decisions that must be made synchronously (a
   * GraphQL operation's plan), after the awaits they need.
   */
  acceptingNow(kinds: AcceptsToken): AuthenticateResult | undefined;
}

const SESSION: AcceptsToken = 'session_token';

/**
 * The `RequestAuth` of one incoming request (a web `Request`, a Node request, connection params, a
 * bare token).
 *
 * @internal
 */
export function requestAuth(clerkAuth: ClerkAuth, input: AuthenticateInput): RequestAuth {
  return new LazyRequestAuth(clerkAuth.config.clockSkewInMs, (kinds) => authenticateSettled(clerkAuth, input, { acceptsToken: kinds }));
}

/**
 * A `RequestAuth` over a result already known (an auth object Clerk's own middleware made, a context
 * built by hand): `accepting(kinds)` narrows it, nothing is verified.
 *
 * @internal
 */
export function settledRequestAuth(result: AuthenticateResult, clockSkewInMs: number): RequestAuth {
  return new LazyRequestAuth(clockSkewInMs, (kinds) => narrow(result, kinds), result.reason === null ? result : undefined);
}

/**
 * `result` as a call that accepts `kinds` sees it: itself when its kind is accepted, else signed out
 * with `token-type-mismatch` (Clerk's auth object for that `acceptsToken`).
 *
 * @internal
 */
export function narrow(result: AuthenticateResult, kinds: AcceptsToken): AuthenticateResult {
  if (result.reason !== null) return kinds === 'any' || accepts(kinds, 'session_token') ? result : signedOut(result.reason, kinds);
  const kind = result.auth.tokenType;
  return kind !== null && accepts(kinds, kind) ? result : signedOut(SignedOutReason.TokenTypeMismatch, kinds, undefined, kind);
}

class LazyRequestAuth implements RequestAuth {
  private readonly memo = new Map<string, AuthenticateResult | Promise<AuthenticateResult>>();

  constructor(
    private readonly skew: number,
    private readonly settle: (kinds: AcceptsToken) => AuthenticateResult | Promise<AuthenticateResult>,
    /** The credential's own result once it verified: every later ask narrows it instead of verifying again. */
    private verified?: AuthenticateResult,
  ) {}

  session(): AuthenticateResult | Promise<AuthenticateResult> {
    return this.accepting(SESSION);
  }

  accepting(kinds: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    const known = this.lookup(kinds);
    return known instanceof Promise ? known.then((result) => this.current(result)) : this.current(known);
  }

  acceptingNow(kinds: AcceptsToken): AuthenticateResult | undefined {
    const known = this.lookup(kinds);
    return known instanceof Promise ? undefined : this.current(known);
  }

  private lookup(kinds: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    const key = keyOf(kinds);
    const memoized = this.memo.get(key);
    if (memoized !== undefined) return memoized;
    if (this.verified !== undefined) {
      const narrowed = narrow(this.verified, kinds);
      this.memo.set(key, narrowed);
      return narrowed;
    }
    const settled = this.settle(kinds);
    if (settled instanceof Promise) {
      const pending = settled.then((result) => {
        this.learn(result);
        this.memo.set(key, result);
        return result;
      });
      this.memo.set(key, pending);
      return pending;
    }
    this.learn(settled);
    this.memo.set(key, settled);
    return settled;
  }

  private learn(result: AuthenticateResult): void {
    if (result.reason === null) this.verified ??= result;
  }

  /** The result as it counts now: signed out once its credential expired. */
  private current(result: AuthenticateResult): AuthenticateResult {
    return result.reason === null && isExpired(result, this.skew) ? expiredResult() : result;
  }
}

function keyOf(kinds: AcceptsToken): string {
  return typeof kinds === 'string' ? kinds : [...kinds].sort().join(',');
}
