/**
 * API-key requests across three instances, with and without a shared store, the Backend API stand-in
 * answering each verification in 20 ms: requests per second (autocannon, one per instance, in
 * parallel) and Backend API verifications per 1,000 requests (counted at the stand-in). Variants:
 *
 * - `per-request`: `machineTokens.acceptedTtlMs: 0` — every request is a Backend API call (what one
 *   process did before the store; still the behaviour to choose when a revoked key must stop at once);
 * - `memory`: the default, each instance its own in-memory store (10 s accepted, 10 s rejected);
 * - `redis`: one redis-server shared by the three (`createRedisStore`).
 *
 * Each round uses 10 fresh API keys (so every round starts with nothing stored), spread over the
 * requests; the variants run in interleaved rounds. Needs redis-server (`npm run test:redis`
 * installs it).
 *
 *   npm run bench:store     (builds first; STORE_BENCH_SECONDS per round, default 5; STORE_BENCH_ROUNDS, default 2;
 *                           STORE_BENCH_CONNECTIONS per instance, default 10)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer, startFakeClerkApi } from 'clerk-api-auth/testing';
import { startRedisServer } from '../test/redis/redis-server.js';
import { median } from './median.js';

const VARIANTS = ['per-request', 'memory', 'redis'] as const;
type Variant = (typeof VARIANTS)[number];
const SECONDS = Number(process.env.STORE_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.STORE_BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.STORE_BENCH_CONNECTIONS ?? 10);
const INSTANCES = 3;
const KEYS = 10;
const instanceScript = fileURLToPath(new URL('./shared-store-instance.ts', import.meta.url));

interface Instance {
  child: ChildProcess;
  port: number;
}

async function startInstance(variant: Variant, env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', instanceScript, variant], { env: { ...process.env, ...env, CLERK_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    buffered += chunk.toString();
    const match = /listening (\d+)/.exec(buffered);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`instance ${variant} did not start`);
}

async function stopInstance({ child }: Instance): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

interface Round {
  reqPerSec: number;
  requests: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
  calls: number;
}

const issuer = await createTestIssuer();
const api = await startFakeClerkApi({ issuer });
api.setFault({ mode: 'none', delayMs: 20, routes: ['api_keys.verify'] });
const redis = await startRedisServer();
const env = { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl, REDIS_URL: redis.url };
const started = performance.now();
const rounds = new Map<Variant, Round[]>(VARIANTS.map((variant) => [variant, []]));

try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      const instances = await Promise.all(Array.from({ length: INSTANCES }, () => startInstance(variant, env)));
      try {
        if (variant === 'redis') {
          for (const { port } of instances) {
            while (!((await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as { storeReady: boolean }).storeReady) await new Promise((r) => setTimeout(r, 20));
          }
        }
        const keys = Array.from({ length: KEYS }, (_, i) => issuer.apiKey({ subject: `user_bench${i}` }).token);
        api.resetCounts();
        const results = await Promise.all(
          instances.map(({ port }, i) =>
            autocannon({
              url: `http://127.0.0.1:${port}/`,
              connections: CONNECTIONS,
              duration: SECONDS,
              // Each instance cycles through the 10 keys, starting at a different one.
              requests: keys.map((_, k) => ({ method: 'GET', headers: { authorization: `Bearer ${keys[(k + i * 3) % KEYS] as string}` } })),
            }),
          ),
        );
        const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
        rounds.get(variant)?.push({
          reqPerSec: results.reduce((sum, r) => sum + r.requests.average, 0),
          requests,
          non2xx: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
          p50Ms: median(results.map((r) => r.latency.p50)),
          p99Ms: Math.max(...results.map((r) => r.latency.p99)),
          calls: api.count('api_keys.verify'),
        });
      } finally {
        await Promise.all(instances.map(stopInstance));
      }
    }
  }
} finally {
  await api.close();
  await redis.close();
}

const rows = VARIANTS.map((variant) => {
  const samples = rounds.get(variant) ?? [];
  const requests = samples.reduce((sum, s) => sum + s.requests, 0);
  const calls = samples.reduce((sum, s) => sum + s.calls, 0);
  return {
    variant,
    'req/s (3 instances)': Math.round(median(samples.map((s) => s.reqPerSec))),
    'p50 ms': median(samples.map((s) => s.p50Ms)),
    'p99 ms': Math.max(...samples.map((s) => s.p99Ms)),
    requests,
    'non-2xx': samples.reduce((sum, s) => sum + s.non2xx, 0),
    'Backend API calls': calls,
    'calls / 1,000 requests': Number(((calls / Math.max(requests, 1)) * 1000).toFixed(2)),
  };
});
const base = rows[0]?.['req/s (3 instances)'] ?? 1;
console.log(
  `\nshared store — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${INSTANCES} instances × ${CONNECTIONS} connections, ${KEYS} API keys per round, stand-in 20 ms per verification, ${ROUNDS} rounds × ${SECONDS} s, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
console.table(rows.map((row) => ({ ...row, 'vs per-request': `${(row['req/s (3 instances)'] / base).toFixed(2)}×` })));
