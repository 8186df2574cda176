import { isObservable, observable } from '@trpc/server/observable';
import type { TRPCError } from '@trpc/server';
import { runAt, untilExpiry } from '../core/internal.js';

const wrapped = new WeakSet<object>();

/**
 * Ends a subscription's output with `onExpire()` at `deadline`: the credential it was admitted with
 * stops counting then, however long the connection lives. Async iterables and observables (the two
 * shapes tRPC subscriptions return) are wrapped; anything else is returned as is.
 *
 * The source is asked to stop (`return()` / unsubscribe) without being awaited, since a source
 * blocked on its next event would otherwise hold the error back; tRPC aborts the resolver's
 * `signal` right after, which is what a well-behaved source listens to.
 *
 * @internal
 */
export function endAtDeadline(data: unknown, deadline: number, onExpire: () => TRPCError): unknown {
  if (data === null || typeof data !== 'object' || wrapped.has(data)) return data;
  let result: object;
  if (Symbol.asyncIterator in data) {
    result = untilExpiry(data as AsyncIterable<unknown>, deadline, () => {
      throw onExpire();
    });
  } else if (isObservable(data)) result = observableUntilDeadline(data, deadline, onExpire);
  else return data;
  wrapped.add(result);
  return result;
}

function observableUntilDeadline(source: { subscribe: (observer: ObserverLike) => { unsubscribe(): void } }, deadline: number, onExpire: () => TRPCError) {
  return observable<unknown, unknown>((observer) => {
    if (Date.now() > deadline) {
      observer.error(onExpire());
      return () => {};
    }
    const subscription = source.subscribe({
      next: (value) => observer.next(value),
      error: (error) => observer.error(error),
      complete: () => observer.complete(),
    });
    const cancel = runAt(deadline + 1, () => {
      subscription.unsubscribe();
      observer.error(onExpire());
    });
    return () => {
      cancel();
      subscription.unsubscribe();
    };
  });
}

interface ObserverLike {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}
