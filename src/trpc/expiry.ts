import { isObservable, observable } from '@trpc/server/observable';
import type { TRPCError } from '@trpc/server';

// setTimeout fires at once for delays over 2^31 - 1 ms (~24.8 days); longer waits are chained.
const MAX_DELAY = 2 ** 31 - 1;

/** Runs `callback` at epoch ms `at`; returns a function that cancels it. @internal */
export function runAt(at: number, callback: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const delay = at - Date.now();
    timer = delay > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(callback, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}

const wrapped = new WeakSet<object>();
const EXPIRED: unique symbol = Symbol('expired');

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
  if (Symbol.asyncIterator in data) result = untilDeadline(data as AsyncIterable<unknown>, deadline, onExpire);
  else if (isObservable(data)) result = observableUntilDeadline(data, deadline, onExpire);
  else return data;
  wrapped.add(result);
  return result;
}

async function* untilDeadline(source: AsyncIterable<unknown>, deadline: number, onExpire: () => TRPCError): AsyncGenerator<unknown, unknown> {
  if (Date.now() > deadline) throw onExpire();
  const iterator = source[Symbol.asyncIterator]();
  // One short-lived promise per event: racing every `next()` against one long-lived "expired" promise
  // would pile a reaction onto it per event for the whole life of the subscription.
  let expired = false;
  let wake: ((value: typeof EXPIRED) => void) | null = null;
  const cancel = runAt(deadline + 1, () => {
    expired = true;
    wake?.(EXPIRED);
  });
  let state: 'idle' | 'pending' | 'done' = 'idle';
  try {
    while (true) {
      state = 'pending';
      const next = await new Promise<IteratorResult<unknown> | typeof EXPIRED>((resolve, reject) => {
        if (expired) return resolve(EXPIRED);
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      wake = null;
      if (next === EXPIRED) throw onExpire();
      state = next.done ? 'done' : 'idle';
      if (next.done) return next.value;
      yield next.value;
    }
  } finally {
    cancel();
    // Stopped between events: the source is idle, so its cleanup is awaited. Expired while the source
    // waits for an event: its `return()` queues behind that wait, so it is requested, not awaited.
    if (state === 'idle') await iterator.return?.();
    else if (state === 'pending') iterator.return?.()?.catch(() => {});
  }
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
