/** A tinybench task's median latency in µs (tinybench reports ms). */
export function medianUs(task: { result?: unknown }): number {
  const result = task.result as { latency?: { p50?: number } } | undefined;
  return (result?.latency?.p50 ?? Number.NaN) * 1000;
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
