/**
 * Protected tRPC and GraphQL queries over loopback HTTP (autocannon), each server in its own
 * process: no auth vs clerk-api-auth vs `authenticateRequest` per request (Clerk's documented way).
 * Reported as ratios measured in one run. Every request carries the same valid session token, as a
 * browser does for the token's 60 s life.
 *
 *   npx tsx bench/http.ts            (part of `npm run bench`)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';

export interface HttpRow {
  server: string;
  variant: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  vsNoAuth: string;
  vsAuthenticateRequest: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));
type Framework = 'trpc' | 'graphql';
type Variant = 'none' | 'ours' | 'clerk';

async function start(framework: Framework, variant: Variant, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${here}http-server.ts`, framework, variant], {
    env: { ...process.env, ...env, CLERK_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    buffered += chunk.toString();
    const match = /listening (\d+)/.exec(buffered);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${framework}/${variant} did not start`);
}

function request(framework: Framework, token: string) {
  return framework === 'trpc'
    ? { path: '/whoami', method: 'GET' as const, headers: { authorization: `Bearer ${token}` } as Record<string, string>, body: undefined }
    : {
        path: '/graphql',
        method: 'POST' as const,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ whoami notes { id text } }' }),
      };
}

async function load(port: number, framework: Framework, token: string, seconds: number) {
  const { path, ...rest } = request(framework, token);
  const options = { url: `http://127.0.0.1:${port}${path}`, connections: 32, duration: seconds, ...rest };
  const check = await fetch(options.url, { method: options.method, headers: options.headers, body: 'body' in options ? options.body : undefined });
  const body = await check.text();
  if (check.status !== 200 || !body.includes('user_bench')) throw new Error(`${framework}: warm-up answered ${check.status} ${body.slice(0, 200)}`);
  await autocannon({ ...options, duration: 2 }); // warm-up (JIT, cache)
  const result = await autocannon(options);
  if (result['2xx'] === 0) throw new Error(`${framework}: no successful response under load`);
  return { reqPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.non2xx };
}

export async function benchHttp(seconds = 8): Promise<HttpRow[]> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_bench', expiresInSeconds: 3600 });
  const env = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_PUBLISHABLE_KEY: issuer.publishableKey };
  const rows: HttpRow[] = [];
  for (const framework of ['trpc', 'graphql'] as const) {
    const measured: Partial<Record<Variant, Awaited<ReturnType<typeof load>>>> = {};
    for (const variant of ['none', 'ours', 'clerk'] as const) {
      const { child, port } = await start(framework, variant, env);
      try {
        measured[variant] = await load(port, framework, token, seconds);
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
    for (const variant of ['none', 'ours', 'clerk'] as const) {
      const m = measured[variant] as Awaited<ReturnType<typeof load>>;
      rows.push({
        server: framework,
        variant: { none: 'no auth', ours: 'clerk-api-auth', clerk: 'authenticateRequest per request' }[variant],
        reqPerSec: Math.round(m.reqPerSec),
        p50Ms: m.p50Ms,
        p99Ms: m.p99Ms,
        errors: m.errors,
        vsNoAuth: `${(m.reqPerSec / (measured.none as typeof m).reqPerSec).toFixed(2)}×`,
        vsAuthenticateRequest: `${(m.reqPerSec / (measured.clerk as typeof m).reqPerSec).toFixed(2)}×`,
      });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchHttp(Number(process.env.BENCH_SECONDS ?? 8)));
}
