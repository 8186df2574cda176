import type { ClerkAuthStore } from './store.js';
import { STORE_FAILED, storeCall } from './store-call.js';

/** Options of `runOnce`. @internal */
export interface RunOnceOptions {
  /** How long a run may hold its claim, in ms; past it another caller may run the task. */
  leaseMs: number;
  /** How long a completed run is remembered, in ms (a later call with the same key is a duplicate). */
  rememberMs: number;
  /** How long a caller finding another's run in progress waits for it to complete, in ms. */
  waitMs: number;
  /** Longest wait for one store call, in ms. */
  timeoutMs: number;
}

/**
 * What became of one `runOnce`: the task ran and succeeded (`processed`; `remembered: false` when
 * the store failed to record it), it had already completed (`duplicate`), another caller is running
 * it now (`in-progress`), it ran and threw (`failed`, not recorded, so a retry runs it again), or the
 * store could not be asked (`store-unavailable`, nothing ran).
 *
 * @internal
 */
export type RunOnceOutcome =
  | { status: 'processed'; remembered: boolean }
  | { status: 'duplicate' }
  | { status: 'in-progress' }
  | { status: 'failed'; error: unknown }
  | { status: 'store-unavailable' };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task` at most once per `key` across every process sharing `store`, and marks it done only
 * once it succeeded: a done marker (`<key>:done`) says it completed; a claim (`<key>:claim`, taken
 * with set-if-absent and released on failure) says someone is running it. A caller that finds a
 * claim waits briefly for the done marker; a store that cannot be asked runs nothing (the caller
 * should answer so that the sender retries later).
 *
 * @internal
 */
export async function runOnce(store: ClerkAuthStore, key: string, task: () => unknown, options: RunOnceOptions): Promise<RunOnceOutcome> {
  const call = <T>(run: () => Promise<T>) => storeCall(run, options.timeoutMs);
  const doneKey = `${key}:done`;
  const claimKey = `${key}:claim`;
  const owner = crypto.randomUUID();
  const isDone = async (): Promise<boolean | typeof STORE_FAILED> => {
    const value = await call(() => store.get(doneKey));
    return value === STORE_FAILED ? STORE_FAILED : value !== undefined && value !== null;
  };

  const done = await isDone();
  if (done === STORE_FAILED) return { status: 'store-unavailable' };
  if (done) return { status: 'duplicate' };

  const deadline = Date.now() + options.waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const claimed = await call(() => store.setIfAbsent(claimKey, owner, Math.ceil(options.leaseMs)));
    if (claimed === STORE_FAILED) return { status: 'store-unavailable' };
    if (claimed) break;
    // Someone else runs it: wait for them to finish (or to give up, releasing the claim).
    if (Date.now() >= deadline) return { status: 'in-progress' };
    await sleep(Math.min(delay, Math.max(deadline - Date.now(), 0)));
    const finished = await isDone();
    if (finished === STORE_FAILED) return { status: 'store-unavailable' };
    if (finished) return { status: 'duplicate' };
  }

  const release = () => call(() => store.deleteIfEquals(claimKey, owner));
  // The claim was free, but a run may have completed just before: check again.
  const doneMeanwhile = await isDone();
  if (doneMeanwhile !== false) {
    await release();
    return doneMeanwhile === STORE_FAILED ? { status: 'store-unavailable' } : { status: 'duplicate' };
  }
  try {
    await task();
  } catch (error) {
    await release();
    return { status: 'failed', error };
  }
  const recorded = await call(() => store.set(doneKey, '1', Math.ceil(options.rememberMs)));
  await release();
  return { status: 'processed', remembered: recorded !== STORE_FAILED };
}
