import type { AuthenticateResult } from '../core/types.js';

/** Longest delay `setTimeout` honours (2^31 - 1 ms); longer ones fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * When the credential behind a result stops verifying: the core's `expiresAt` (a JWT's `exp` plus the
 * clock skew, or an opaque machine token's expiration), else — for a result rebuilt from a context
 * that only carries Clerk's auth object — a session token's `exp` plus `clockSkewInMs`.
 * `undefined` when there is no expiry to enforce.
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
 * Passes `source` through until `expiresAt` (ms since the epoch), then yields `last()` once, stops the
 * source and ends. A `return()` from the consumer stops the source and the timer.
 *
 * @internal
 */
export function untilExpiry<T>(source: AsyncIterable<T>, expiresAt: number, last: () => T): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let state: 'open' | 'expired' | 'closed' = 'open';
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Settles the pending `next()`, if any: on expiry with `last()`, on `return()` with done. */
  let settle: ((result: IteratorResult<T>) => void) | undefined;

  const stopSource = (): void => {
    try {
      // Not awaited: an async generator suspended in an `await` finishes its return only when it resumes.
      Promise.resolve(iterator.return?.()).catch(() => undefined);
    } catch {
      // The source refused to stop; nothing more to do.
    }
  };
  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const expire = (): void => {
    if (state !== 'open') return;
    state = 'expired';
    clearTimer();
    stopSource();
    const pending = settle;
    settle = undefined;
    pending?.(finish());
  };
  const arm = (): void => {
    const delay = expiresAt - Date.now();
    if (delay <= 0) return expire();
    timer = setTimeout(arm, Math.min(delay, MAX_DELAY_MS));
    (timer as { unref?: () => void }).unref?.();
  };

  const done = (): IteratorResult<T> => ({ done: true, value: undefined });
  const close = (): void => {
    if (state === 'open') stopSource();
    state = 'closed';
    clearTimer();
    const pending = settle;
    settle = undefined;
    pending?.(done());
  };
  const finish = (): IteratorResult<T> => {
    state = 'closed';
    return { done: false, value: last() };
  };

  const pull = (): Promise<IteratorResult<T>> => {
    if (state === 'closed') return Promise.resolve(done());
    if (state === 'expired') return Promise.resolve(finish());
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      settle = resolve;
      const settled = (): boolean => {
        if (settle !== resolve) return true; // already answered by expiry or return()
        settle = undefined;
        return false;
      };
      Promise.resolve()
        .then(() => iterator.next())
        .then(
          (result) => {
            if (settled()) return;
            if (result.done) {
              state = 'closed';
              clearTimer();
            }
            resolve(result);
          },
          (error: unknown) => {
            if (settled()) return;
            state = 'closed';
            clearTimer();
            reject(error);
          },
        );
    });
  };
  let inFlight: Promise<unknown> = Promise.resolve();

  arm();

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next(): Promise<IteratorResult<T>> {
      // Calls are served one at a time, in order, as an async generator would.
      const result = inFlight.then(pull, pull);
      inFlight = result;
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
