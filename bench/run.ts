/**
 * `npm run bench`: every benchmark in one run, one table. Ratios are always against a baseline
 * measured in the same run. Results are recorded in BENCHMARKS.md with the machine they ran on.
 *
 *   npm run bench      (BENCH_SECONDS sets the HTTP load duration, default 6; ROUNDS / CYCLES the GraphQL rounds)
 */
import { cpus, totalmem } from 'node:os';
import { benchAuthenticate, benchMemory } from './core.js';
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

// Keep the whole run within five minutes on a 2-core machine (each can be raised from the environment).
process.env.ROUNDS ??= '3';
process.env.CYCLES ??= '300';
const started = performance.now();
const lines: Line[] = [];
const us = (value: number) => `${value.toFixed(1)} µs`;

const core = await benchAuthenticate();
const byName = (name: string) => core.find((row) => row.name.startsWith(name));
for (const row of core) {
  const target = row.name.includes('hot') ? '≤ 5 µs' : row.name.includes('cold') ? '≤ 0.5×' : '';
  lines.push({ benchmark: 'authenticate (in-process)', case: row.name, value: us(row.medianUs), ratio: row.ratio, target });
}
const memory = await benchMemory(100_000);
lines.push({ benchmark: 'memory', case: `heap after ${memory.tokens.toLocaleString('en')} distinct tokens, default cache, after GC`, value: `${memory.retainedAfterGcMb.toFixed(1)} MB`, ratio: '', target: '≤ 32 MB' });
lines.push({ benchmark: 'memory', case: 'heap growth before GC (garbage included)', value: `${memory.heapGrowthMb.toFixed(1)} MB`, ratio: '', target: '' });

for (const row of await benchTrpcOverhead()) {
  lines.push({ benchmark: `tRPC overhead (${row.group})`, case: row.procedure, value: us(row.medianUs), ratio: row.ratio, target: '' });
}
for (const row of await benchGraphqlDirectives()) {
  lines.push({ benchmark: 'GraphQL directives (1000 × 5)', case: row.case, value: row.value, ratio: row.ratio, target: row.target });
}
for (const row of await benchHttp(Number(process.env.BENCH_SECONDS ?? 6))) {
  const target = row.variant === 'clerk-api-auth' ? '≥ 0.8× no auth, ≥ 5× authenticateRequest' : '';
  lines.push({
    benchmark: `HTTP ${row.server} (autocannon, 32 conns)`,
    case: row.variant,
    value: `${row.reqPerSec} req/s, p99 ${row.p99Ms} ms${row.errors ? `, ${row.errors} errors` : ''}`,
    ratio: `${row.vsNoAuth} no-auth, ${row.vsAuthenticateRequest} authReq`,
    target,
  });
}

console.log(`\nclerk-api-auth benchmarks — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
console.table(lines);
