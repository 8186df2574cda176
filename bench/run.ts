/**
 * `npm run bench`: every benchmark in one run, one table. Ratios are always against a baseline
 * measured in the same run. Results are recorded in BENCHMARKS.md with the machine they ran on.
 *
 *   npm run bench      (builds first; BENCH_REPLICATES / BENCH_ROUNDS / BENCH_SECONDS set the HTTP runs, default
 *                      3 fresh sets of server processes × 2 rounds × 2.5 s, 1.5 s for the HTTP servers measured
 *                      only against no auth; BENCH_HTTP picks HTTP servers;
 *                      ROUNDS / CYCLES the GraphQL rounds; ALIAS_RUNS the GraphQL alias rounds)
 */
import { cpus, totalmem } from 'node:os';
import { benchChurn } from './churn.js';
import { benchColdHttp } from './cold-http.js';
import { benchAuthenticate, benchMemory } from './core.js';
import { benchGraphqlAliases } from './graphql-aliases.js';
import { benchGraphqlDirectives } from './graphql-directives.js';
import { benchHttp } from './http.js';
import { benchTrpcOverhead } from './trpc-overhead.js';

interface Line {
  benchmark: string;
  case: string;
  value: string;
  ratio: string;
  target: string;
}

// About fifteen minutes on a 2-core machine: 13 HTTP servers, the cold-HTTP decision and the churn run dominate (each can be shortened or raised from the environment).
process.env.ROUNDS ??= '3';
process.env.CYCLES ??= '300';
const started = performance.now();
const lines: Line[] = [];
const us = (value: number) => `${value.toFixed(1)} µs`;
const took: string[] = [];
/** Runs one benchmark and notes how long it took, for the summary line. */
async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await run();
  took.push(`${name} ${((performance.now() - start) / 1000).toFixed(0)} s`);
  return result;
}

const core = await timed('core', benchAuthenticate);
const nodeFloor = core.find((row) => row.name === 'floor: node:crypto RS256 verify, KeyObject')?.medianUs ?? Number.NaN;
const poolFloor = core.find((row) => row.name.startsWith('floor: node:crypto RS256 verify on the thread pool'))?.medianUs ?? Number.NaN;
for (const row of core) {
  const vsFloor = `${(row.medianUs / nodeFloor).toFixed(2)}× node:crypto floor, ${(row.medianUs / poolFloor).toFixed(2)}× its thread-pool floor`;
  const target = row.name.includes('hot') ? '≤ 3 µs' : row.name.includes('cold') ? '≤ 2× node:crypto floor' : '';
  lines.push({ benchmark: 'authenticate (in-process)', case: row.name, value: us(row.medianUs), ratio: `${row.ratio} authReq, ${vsFloor}`, target });
}
const memory = await timed('memory', () => benchMemory(100_000));
lines.push({ benchmark: 'memory', case: `heap after ${memory.tokens.toLocaleString('en')} distinct tokens, default cache, after GC`, value: `${memory.retainedAfterGcMb.toFixed(1)} MB`, ratio: '', target: '≤ 32 MB' });
lines.push({ benchmark: 'memory', case: 'heap growth before GC (garbage included)', value: `${memory.heapGrowthMb.toFixed(1)} MB`, ratio: '', target: '' });

for (const row of await timed('tRPC', () => benchTrpcOverhead())) {
  lines.push({ benchmark: `tRPC overhead (${row.group})`, case: row.procedure, value: us(row.medianUs), ratio: row.ratio, target: '' });
}
for (const row of await timed('GraphQL', () => benchGraphqlDirectives())) {
  lines.push({ benchmark: 'GraphQL directives (1000 × 5)', case: row.case, value: row.value, ratio: row.ratio, target: row.target });
}
for (const row of await timed('GraphQL aliases', () => benchGraphqlAliases())) {
  // The summary keeps clerk-api-auth's rows; the bench prints every variant, baselines included.
  if (!/useClerk|transformer/.test(row.variant)) continue;
  lines.push({
    benchmark: `GraphQL denial, ${row.aliases} aliases`,
    case: row.variant,
    value: `${row.bytes.toLocaleString('en')} B, ${row.ms.toFixed(2)} ms, ${row.errors} errors`,
    ratio: `${row.bytesRatio.toFixed(2)}× bytes, ${row.timeRatio.toFixed(2)}× time vs no plugin`,
    target: row.aliases === 5000 ? '≤ 21 errors, < 5× time' : '',
  });
}
const http = await timed('HTTP', () => benchHttp(Number(process.env.BENCH_SECONDS ?? 2.5), Number(process.env.BENCH_ROUNDS ?? 2), Number(process.env.BENCH_REPLICATES ?? 3)));
for (const row of http.rows) {
  lines.push({
    benchmark: `HTTP ${row.label}`,
    case: row.variant,
    value: `${row.reqPerSec} req/s, p99 ${row.p99Ms} ms${row.cpuUsPerReq === undefined ? '' : `, ${row.cpuUsPerReq.toFixed(1)} µs CPU/req`}${row.errors ? `, ${row.errors} errors` : ''}`,
    ratio: `${row.vsNoAuth.toFixed(2)}× no-auth${row.cpuVsNoAuth === undefined ? '' : ` (CPU ${row.cpuVsNoAuth.toFixed(2)}×)`}${row.vsAuthenticateRequest === undefined ? '' : `, ${row.vsAuthenticateRequest.toFixed(2)}× authReq`}`,
    target: row.variant === 'clerk-api-auth' ? '≥ 0.9× no auth' : '',
  });
}

const cold = await timed('cold HTTP', () => benchColdHttp());
for (const row of cold.rows) {
  lines.push({
    benchmark: `cold verify over HTTP (${row.placement})`,
    case: row.variant,
    value: `${Math.round(row.reqPerSec)} req/s, p99 ${row.p99Ms} ms, ${row.cpuUsPerReq.toFixed(1)} µs CPU/req${row.errors ? `, ${row.errors} errors` : ''}`,
    ratio: `${row.vsMain.toFixed(2)}× main thread`,
    target: '',
  });
}
const churn = await timed('churn', benchChurn);
for (const row of churn.rows) {
  lines.push({
    benchmark: `churn ${row.phase === 'steady' ? `${churn.settings.users.toLocaleString('en')} users, ${row.offeredPerSec} req/s offered` : `burst, ${churn.settings.burst.toLocaleString('en')} first-seen tokens`}`,
    case: row.variant,
    value: `${Math.round(row.reqPerSec)} req/s, p99 ${row.p99Ms} ms, stall ${row.maxStallMs.toFixed(1)} ms (idle ${row.idleStallMs.toFixed(1)}), ${row.firstSeen} first seen${row.errors ? `, ${row.errors} errors` : ''}`,
    ratio: `${row.reqPerSecVsClerk.toFixed(2)}× req/s, ${row.p99VsClerk.toFixed(2)}× p99, ${row.stallVsClerk.toFixed(2)}× stall vs authReq`,
    target: '',
  });
}

console.log(`\nclerk-api-auth benchmarks — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
console.table(lines);
console.log(`HTTP: autocannon, 32 connections, ${process.env.BENCH_REPLICATES ?? 3} fresh sets of server processes × ${process.env.BENCH_ROUNDS ?? 2} interleaved rounds of ${process.env.BENCH_SECONDS ?? 2.5} s per server (0.6× that for the servers without an authReq row), medians of per-round ratios; ${http.placement}.`);
console.log('A no-auth row\'s "× authReq" is the ceiling: no authentication, however fast, can exceed it on that server.');
console.log(`Time per benchmark: ${took.join(', ')}.`);
