import { signedOutAuthObject } from '@clerk/backend/internal';
import { SignedOutReason } from './reasons.js';
import type { AuthenticateResult } from './types.js';

/** Longest delay `setTimeout` honours (2^31 - 1 ms, ~24.8 days); longer ones fire at once, so they are chained. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * When the credential behind a result stops verifying, in ms since the epoch: the core's `expiresAt`
 * (a JWT's `exp` plus the clock skew, or an opaque machine token's expiration), else — for a result
 * rebuilt from an auth object alone — a session token's `exp` plus `clockSkewInMs`. `undefined` when
 * signed out or when nothing expires.
 *
 * @internal
 */
export function expiryOf(result: AuthenticateResult, clockSkewInMs: number): number | undefined {
  if (result.expiresAt !== undefined) return result.expiresAt;
  const { auth } = result;
  if (auth.tokenType !== 'session_token' || !auth.isAuthenticated) return undefined;
  const exp = auth.sessionClaims.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 + clockSkewInMs : undefined;
}

/**
 * Whether a result still counts at `now`. A long-lived connection (WebSocket, SSE) is authenticated
 * once but decided per operation: every operation after its token's expiry sees the caller signed out.
 *
 * @internal
 */
export function isExpired(result: AuthenticateResult, clockSkewInMs: number, now = Date.now()): boolean {
  const at = expiryOf(result, clockSkewInMs);
  return at !== undefined && now > at;
}

/**
 * Runs `callback` at epoch ms `at` (at once when it has passed) without keeping the process alive;
 * returns a function that cancels it.
 *
 * @internal
 */
export function runAt(at: number, callback: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const delay = at - Date.now();
    timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(callback, Math.max(0, delay));
    (timer as { unref?: () => void }).unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * The one "end this stream at expiry" helper: passes `source` through until `expiresAt` (ms since the
 * epoch), then asks the source to stop and ends with `last()` — never a source value that arrived after
 * `expiresAt`, even when the timer has not run yet — its value is yielded once (GraphQL: a
 * final `UNAUTHENTICATED` payload), or, when it throws, the pending `next()` rejects with that error
 * (tRPC: an `UNAUTHORIZED` error). The source is asked to stop without being awaited: an async
 * generator suspended on its next event would hold the end back. A consumer's `return()` stops the
 * source and the timer.
 *
 * @internal
 */
export function untilExpiry<T>(source: AsyncIterable<T>, expiresAt: number, last: () => T): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let state: 'open' | 'expired' | 'closed' = 'open';
  /** Settles the pending `next()`, if any. */
  let pending: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;

  const stopSource = (): void => {
    try {
      Promise.resolve(iterator.return?.()).catch(() => undefined);
    } catch {
      // The source refused to stop; nothing more to do.
    }
  };
  const done = (): IteratorResult<T> => ({ done: true, value: undefined });
  /** The final step after expiry: `last()`'s value once, or its error. */
  const finish = (into: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }): void => {
    state = 'closed';
    try {
      into.resolve({ done: false, value: last() });
    } catch (error) {
      into.reject(error);
    }
  };
  const cancel = runAt(expiresAt + 1, () => {
    if (state !== 'open') return;
    state = 'expired';
    stopSource();
    const waiting = pending;
    pending = undefined;
    if (waiting !== undefined) finish(waiting);
  });
  if (Date.now() > expiresAt) {
    // Already expired: never touch the source.
    state = 'expired';
    cancel();
    stopSource();
  }

  const close = (): void => {
    if (state === 'open') stopSource();
    state = 'closed';
    cancel();
    const waiting = pending;
    pending = undefined;
    waiting?.resolve(done());
  };

  const pull = (): Promise<IteratorResult<T>> =>
    new Promise<IteratorResult<T>>((resolve, reject) => {
      if (state === 'closed') return resolve(done());
      const into = { resolve, reject };
      if (state === 'expired') return finish(into);
      pending = into;
      const mine = (): boolean => {
        if (pending !== into) return false; // already answered by expiry or return()
        pending = undefined;
        return true;
      };
      Promise.resolve()
        .then(() => iterator.next())
        .then(
          (result) => {
            if (!mine()) return;
            if (result.done) {
              state = 'closed';
              cancel();
            } else if (Date.now() > expiresAt) {
              // A value that arrives after expiry, before the timer ran (a busy loop, a loaded machine):
              // it is not delivered; the stream ends here, exactly as the timer would have ended it.
              state = 'expired';
              cancel();
              stopSource();
              return finish(into);
            }
            resolve(result);
          },
          (error: unknown) => {
            if (!mine()) return;
            state = 'closed';
            cancel();
            reject(error);
          },
        );
    });
  let inFlight: Promise<unknown> = Promise.resolve();

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next(): Promise<IteratorResult<T>> {
      // Calls are served one at a time, in order, as an async generator would.
      const result = inFlight.then(pull, pull);
      inFlight = result.catch(() => undefined);
      return result;
    },
    return(): Promise<IteratorResult<T>> {
      close();
      return Promise.resolve(done());
    },
    throw(error?: unknown): Promise<IteratorResult<T>> {
      close();
      return Promise.reject(error);
    },
  };
}

/**
 * The signed-out result an operation sees once its credential expired.
 *
 * @internal
 */
export function expiredResult(): AuthenticateResult {
  return { auth: signedOutAuthObject(), reason: SignedOutReason.TokenExpired };
}
