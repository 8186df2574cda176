/**
 * Protected queries over loopback HTTP (autocannon), each server in its own process: a bare node:http
 * handler (the reference point of issue 6), tRPC (standalone adapter) and GraphQL Yoga, each with no
 * auth vs clerk-api-auth vs `authenticateRequest` per request (Clerk's documented way). Every request
 * carries the same valid session token, as a browser does for the token's 60 s life.
 *
 * On Linux with two or more cores the servers run on the last core and this process (autocannon) on
 * the others (`taskset`), so the load generator does not steal the server's CPU. The three variants
 * of a server are measured in interleaved rounds; ratios are medians of per-round ratios, so a slow
 * patch of the machine hits every variant alike.
 *
 *   npx tsx bench/http.ts   (part of `npm run bench`; BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP; BENCH_HTTP=node,trpc,graphql
 *                           picks servers, BENCH_VERBOSE=1 prints every round)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { median } from './median.js';

export interface HttpRow {
  server: string;
  variant: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  vsNoAuth: number;
  vsAuthenticateRequest: number;
}

export interface HttpBench {
  rows: HttpRow[];
  /** Where the servers and the load generator ran. */
  placement: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const FRAMEWORKS = ['node', 'trpc', 'graphql'] as const;
const VARIANTS = ['none', 'ours', 'clerk'] as const;
const LABELS = { none: 'no auth', ours: 'clerk-api-auth', clerk: 'authenticateRequest per request' } as const;
type Framework = (typeof FRAMEWORKS)[number];
type Variant = (typeof VARIANTS)[number];
interface Sample {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Servers on the last core, this process on the others; `undefined` where `taskset` or a second core is missing. */
function pinCores(): { serverCpu: string; placement: string; restore(): void } | undefined {
  const cores = availableParallelism();
  if (process.platform !== 'linux' || cores < 2) return undefined;
  try {
    const mask = /mask: ([0-9a-f]+)/i.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1];
    if (mask === undefined) return undefined;
    const loadCpus = cores === 2 ? '0' : `0-${cores - 2}`;
    execFileSync('taskset', ['-a', '-p', '-c', loadCpus, String(process.pid)], { stdio: 'ignore' });
    return {
      serverCpu: String(cores - 1),
      placement: `servers pinned to CPU ${cores - 1}, autocannon to CPU ${loadCpus} (taskset)`,
      restore: () => execFileSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' }),
    };
  } catch {
    return undefined;
  }
}

async function start(framework: Framework, variant: Variant, env: NodeJS.ProcessEnv, cpu: string | undefined): Promise<{ child: ChildProcess; port: number }> {
  const node = [process.execPath, '--import', 'tsx', `${here}http-server.ts`, framework, variant];
  const [command, ...args] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  const child = spawn(command as string, args, { env: { ...process.env, ...env, CLERK_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    buffered += chunk.toString();
    const match = /listening (\d+)/.exec(buffered);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${framework}/${variant} did not start`);
}

interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

function request(framework: Framework, port: number, token: string): Target {
  const authorization = `Bearer ${token}`;
  return framework === 'graphql'
    ? {
        url: `http://127.0.0.1:${port}/graphql`,
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ whoami notes { id text } }' }),
      }
    : { url: `http://127.0.0.1:${port}/whoami`, method: 'GET', headers: { authorization } };
}

/** One autocannon run; the first call per server also checks the answer is the signed-in one. */
async function load(target: Target, seconds: number): Promise<Sample> {
  const result = await autocannon({ ...target, connections: 32, duration: seconds });
  if (result['2xx'] === 0) throw new Error(`${target.url}: no successful response under load`);
  return { reqPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.non2xx };
}

async function check(target: Target): Promise<void> {
  const response = await fetch(target.url, target);
  const body = await response.text();
  if (response.status !== 200 || !body.includes('user_bench')) throw new Error(`${target.url}: answered ${response.status} ${body.slice(0, 200)}`);
}

export async function benchHttp(seconds = 2.5, rounds = 4): Promise<HttpBench> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_bench', expiresInSeconds: 3600 });
  const env = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_PUBLISHABLE_KEY: issuer.publishableKey };
  const pinned = pinCores();
  const rows: HttpRow[] = [];
  try {
    const only = process.env.BENCH_HTTP?.split(',');
    for (const framework of FRAMEWORKS.filter((name) => only === undefined || only.includes(name))) {
      const servers = await Promise.all(VARIANTS.map((variant) => start(framework, variant, env, pinned?.serverCpu)));
      const samples = new Map<Variant, Sample[]>(VARIANTS.map((variant) => [variant, []]));
      try {
        const targets = servers.map(({ port }) => request(framework, port, token));
        for (const target of targets) {
          await check(target);
          await load(target, Number(process.env.BENCH_WARMUP ?? 2)); // warm-up: JIT, caches
        }
        for (let round = 0; round < rounds; round++) {
          // Rotate the order so no variant always runs first (or last) in a round.
          for (let i = 0; i < VARIANTS.length; i++) {
            const index = (i + round) % VARIANTS.length;
            samples.get(VARIANTS[index] as Variant)?.push(await load(targets[index] as Target, seconds));
          }
        }
      } finally {
        for (const { child } of servers) child.kill('SIGTERM');
        await Promise.all(servers.map(({ child }) => (child.exitCode === null ? once(child, 'exit') : undefined)));
      }
      const of = (variant: Variant) => samples.get(variant) as Sample[];
      if (process.env.BENCH_VERBOSE) for (const variant of VARIANTS) console.error(framework, variant, of(variant).map((s) => Math.round(s.reqPerSec)).join(' '));
      const perRound = (variant: Variant, base: Variant) => median(of(variant).map((s, i) => s.reqPerSec / (of(base)[i] as Sample).reqPerSec));
      for (const variant of VARIANTS) {
        rows.push({
          server: framework,
          variant: LABELS[variant],
          reqPerSec: Math.round(median(of(variant).map((s) => s.reqPerSec))),
          p50Ms: median(of(variant).map((s) => s.p50Ms)),
          p99Ms: median(of(variant).map((s) => s.p99Ms)),
          errors: of(variant).reduce((sum, s) => sum + s.errors, 0),
          vsNoAuth: perRound(variant, 'none'),
          vsAuthenticateRequest: perRound(variant, 'clerk'),
        });
      }
    }
  } finally {
    pinned?.restore();
  }
  return { rows, placement: pinned?.placement ?? 'servers and autocannon share every core (no taskset or a single core)' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, placement } = await benchHttp(Number(process.env.BENCH_SECONDS ?? 2.5), Number(process.env.BENCH_ROUNDS ?? 4));
  console.log(placement);
  console.table(rows.map((row) => ({ ...row, vsNoAuth: `${row.vsNoAuth.toFixed(2)}×`, vsAuthenticateRequest: `${row.vsAuthenticateRequest.toFixed(2)}×` })));
}
