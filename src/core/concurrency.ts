/** Options of `ConcurrencyLimiter`. @internal */
export interface ConcurrencyLimiterOptions {
  /** Most tasks running at once; `0` means no cap (every task runs at once). */
  maxConcurrent: number;
  /** Most tasks waiting for a slot; `0` means none wait (over the cap is refused at once). */
  maxQueued: number;
  /** Longest wait for a slot, in ms; a task still waiting then is refused. */
  maxWaitMs: number;
}

interface Waiter {
  start(): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Caps how many tasks run at once. A task over the cap waits, first come first served, in a queue
 * bounded in length and in waiting time; a task that finds the queue full, or is still waiting when
 * its time is up, is refused (`run` resolves with the `refused` value given) and never runs.
 *
 * @internal
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly queue = new Set<Waiter>();

  constructor(private readonly options: ConcurrencyLimiterOptions) {}

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot now. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Runs `task` when a slot is free, or resolves `refused` without running it. */
  run<T>(task: () => Promise<T>, refused: T): Promise<T> {
    const { maxConcurrent, maxQueued, maxWaitMs } = this.options;
    if (maxConcurrent === 0 || this.running < maxConcurrent) return this.start(task);
    if (this.queue.size >= maxQueued) return Promise.resolve(refused);
    return new Promise<T>((resolve) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve(this.start(task));
        },
        timer: setTimeout(() => {
          this.queue.delete(waiter);
          resolve(refused);
        }, maxWaitMs),
      };
      this.queue.add(waiter);
    });
  }

  private async start<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.next();
    }
  }

  private next(): void {
    const first = this.queue.values().next();
    if (first.done) return;
    this.queue.delete(first.value);
    first.value.start();
  }
}
