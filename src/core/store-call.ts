/** What a bounded store call settled to when the store did not answer: it threw, rejected, or took too long. @internal */
export const STORE_FAILED: unique symbol = Symbol('store-failed');

/**
 * Runs one store call bounded in time, never throwing: its value, or `STORE_FAILED` when it threw,
 * rejected, or did not settle within `timeoutMs`. A call that times out keeps running (a store offers
 * no way to cancel it); its eventual outcome is ignored.
 *
 * @internal
 */
export function storeCall<T>(call: () => Promise<T>, timeoutMs: number): Promise<T | typeof STORE_FAILED> {
  let pending: Promise<T>;
  try {
    pending = call();
  } catch {
    return Promise.resolve(STORE_FAILED);
  }
  return new Promise<T | typeof STORE_FAILED>((resolve) => {
    const timer = setTimeout(() => resolve(STORE_FAILED), timeoutMs);
    Promise.resolve(pending).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(STORE_FAILED);
      },
    );
  });
}
