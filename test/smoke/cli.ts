/**
 * Runs the smoke suite on the current runtime (Node, Bun, Deno) and fails the process when a check fails.
 * Top-level await and an uncaught rejection: the exit code is non-zero on every runtime, without `process`.
 */
import { formatSmoke, runSmoke } from './smoke.js';

const report = await runSmoke();
console.log(formatSmoke(report));
if (report.failed > 0 || report.passed === 0) throw new Error(`smoke failed on ${report.runtime}: ${report.failed} of ${report.checks.length} checks`);
