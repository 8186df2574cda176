/** A tinybench task's median latency in µs (tinybench reports ms). */
export function medianUs(task: { result?: unknown }): number {
  const result = task.result as { latency?: { p50?: number } } | undefined;
  return (result?.latency?.p50 ?? Number.NaN) * 1000;
}
