/**
 * Clerk's `useReverification` without React, for tests: the contract of the handler the hook wraps
 * around a fetcher (`@clerk/shared/react`, read from its shipped dist): await the fetcher's result
 * (a `Response` is read as JSON); when the result is Clerk's reverification hint
 * (`isReverificationHint` from `@clerk/shared`), read the level from its metadata with Clerk's
 * `validateReverificationConfig`, call `onNeedsReverification({ level, complete, cancel })`, wait
 * for `complete()` (a `cancel()` rejects), then call the fetcher once more and return that result.
 * A fetcher that throws is not retried (the hook only converts Clerk's own Backend API
 * `session_reverification_required` errors, which these servers never send): the error propagates.
 */
import { isReverificationHint } from '@clerk/shared/authorization-errors';
import { validateReverificationConfig } from '@clerk/shared/authorization';

export interface NeedsReverification {
  level: 'first_factor' | 'second_factor' | 'multi_factor' | undefined;
  complete(): void;
  cancel(): void;
}

export function reverifying<TArgs extends unknown[], TResult>(
  fetcher: (...args: TArgs) => Promise<TResult>,
  onNeedsReverification: (params: NeedsReverification) => void,
): (...args: TArgs) => Promise<unknown> {
  const settle = async (pending: Promise<TResult>): Promise<unknown> => {
    const value = await pending;
    return value instanceof Response ? value.json() : value;
  };
  return async (...args: TArgs) => {
    let result = await settle(fetcher(...args));
    if (isReverificationHint(result)) {
      const config = validateReverificationConfig(result.clerk_error.metadata?.reverification);
      const level = config ? config().level : undefined;
      await new Promise<void>((resolve, reject) => onNeedsReverification({ level, complete: resolve, cancel: () => reject(new Error('reverification_cancelled')) }));
      result = await settle(fetcher(...args));
    }
    return result;
  };
}
