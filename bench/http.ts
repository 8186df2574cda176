/**
 * Protected requests over loopback HTTP (autocannon), each server in its own process (bench/http-server.ts
 * builds them): every server the package supports, each with no auth vs clerk-api-auth on the same
 * server, answering the same protected body. The servers of issue 16 — a bare node:http handler (the
 * reference point of issue 6), tRPC standalone, tRPC's fetch adapter on node:http, GraphQL Yoga with
 * `{ whoami notes { id text } }` and with `{ whoami }` — also run `authenticateRequest` per request
 * (Clerk's documented way). Every request carries the same valid session token, as a browser does for
 * the token's 60 s life.
 *
 * Before measuring, `check` asks each server once: every variant's signed-in answer holds `user_bench`
 * and equals the no-auth answer, and every clerk-api-auth server refuses a request without a token
 * (401, or for a GraphQL query the documented 200 with `UNAUTHENTICATED` errors and every field null).
 *
 * On Linux with two or more cores the servers run on the last core and this process (autocannon) on
 * the others (`taskset`), so the load generator does not steal the server's CPU. The variants of a
 * server are measured in interleaved rounds; ratios are medians of per-round ratios, so a slow patch
 * of the machine hits every variant alike. Two processes running the same code differ by up to ±10 %
 * in throughput (JIT and heap-layout luck, measured with no-auth against no-auth), so each server runs
 * `replicates` fresh sets of processes (default 3), each warmed up and measured `rounds` × `seconds`
 * (default 2 × 2.5 s; 0.6 × `seconds` for the no-auth vs clerk-api-auth servers: Express, Fastify,
 * Lambda, Next.js pages, Apollo, graphql-http, Mercurius, Pothos), and the medians take every round of
 * every replicate.
 *
 * On Linux each run also reads the server process's CPU time (every thread, `/proc/<pid>/task/<tid>/
 * schedstat`) before and after the load, giving CPU µs per request: `cpuVsNoAuth` (no-auth CPU per
 * request / this variant's) is the throughput ratio the server's own work allows: when it agrees with
 * the req/s ratio, the gap is the server's work and not the load generator or the network stack.
 *
 *   npx tsx bench/http.ts   (part of `npm run bench`; BENCH_SECONDS, BENCH_ROUNDS, BENCH_REPLICATES, BENCH_WARMUP (s, default 2;
 *                           0.6 × for the short servers); BENCH_HTTP=node,trpc-fastify,... picks servers by
 *                           name; BENCH_VERBOSE=1 prints every round)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { median } from './median.js';
import { pinCores, startServer } from './placement.js';

export interface HttpRow {
  /** The server's name (`BENCH_HTTP`, bench/http-server.ts). */
  server: string;
  /** What it is, for a table. */
  label: string;
  variant: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  vsNoAuth: number;
  /** The server's CPU time per request (µs, median of rounds), where the OS tells it (Linux). */
  cpuUsPerReq?: number;
  /** No-auth CPU per request / this variant's (median of per-round ratios): the throughput its own work allows. */
  cpuVsNoAuth?: number;
  /** Only on servers that also run `authenticateRequest` per request. */
  vsAuthenticateRequest?: number;
}

export interface HttpBench {
  rows: HttpRow[];
  /** Where the servers and the load generator ran. */
  placement: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const LABELS = { none: 'no auth', ours: 'clerk-api-auth', clerk: 'authenticateRequest per request' } as const;
type Variant = keyof typeof LABELS;
const ALL: readonly Variant[] = ['none', 'ours', 'clerk'];
const PAIR: readonly Variant[] = ['none', 'ours'];

interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** One server of bench/http-server.ts: its variants, and the protected request every variant answers. */
interface Server {
  name: string;
  label: string;
  variants: readonly Variant[];
  /** `short`: 0.6 × the seconds per round (and warm-up). */
  short?: true;
  kind: 'http' | 'graphql';
  target(port: number, headers: Record<string, string>): Target;
}

const get =
  (path: string) =>
  (port: number, headers: Record<string, string>): Target => ({ url: `http://127.0.0.1:${port}${path}`, method: 'GET', headers });
const graphql =
  (query: string) =>
  (port: number, headers: Record<string, string>): Target => ({
    url: `http://127.0.0.1:${port}/graphql`,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
const NOTES = graphql('{ whoami notes { id text } }');

export const SERVERS: readonly Server[] = [
  { name: 'node', label: 'bare node:http', variants: ALL, kind: 'http', target: get('/whoami') },
  { name: 'trpc', label: 'tRPC standalone', variants: ALL, kind: 'http', target: get('/whoami') },
  { name: 'trpc-fetch', label: 'tRPC fetch adapter (node:http)', variants: ALL, kind: 'http', target: get('/trpc/whoami') },
  { name: 'graphql', label: 'GraphQL Yoga { whoami notes }', variants: ALL, kind: 'graphql', target: NOTES },
  { name: 'graphql-small', label: 'GraphQL Yoga { whoami }', variants: ALL, kind: 'graphql', target: graphql('{ whoami }') },
  { name: 'trpc-express', label: 'tRPC Express', variants: PAIR, short: true, kind: 'http', target: get('/trpc/whoami') },
  { name: 'trpc-fastify', label: 'tRPC Fastify', variants: PAIR, short: true, kind: 'http', target: get('/trpc/whoami') },
  { name: 'trpc-lambda', label: 'tRPC AWS Lambda (API Gateway v2 shim)', variants: PAIR, short: true, kind: 'http', target: get('/trpc/whoami') },
  { name: 'trpc-next', label: 'tRPC Next.js pages (node:http)', variants: PAIR, short: true, kind: 'http', target: get('/api/trpc/whoami') },
  { name: 'apollo', label: 'Apollo Server (Fastify) { whoami notes }', variants: PAIR, short: true, kind: 'graphql', target: NOTES },
  { name: 'graphql-http', label: 'graphql-http { whoami notes }', variants: PAIR, short: true, kind: 'graphql', target: NOTES },
  { name: 'mercurius', label: 'Mercurius { whoami notes }', variants: PAIR, short: true, kind: 'graphql', target: NOTES },
  { name: 'pothos', label: 'Pothos on Yoga { whoami notes }', variants: PAIR, short: true, kind: 'graphql', target: NOTES },
];

interface Sample {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The server process's CPU time per request (µs), where the OS tells it (Linux). */
  cpuUsPerReq: number | undefined;
}

/**
 * CPU time (ns) every thread of a process has run so far, from /proc/<pid>/task/<tid>/schedstat
 * (Linux); `undefined` elsewhere. Time the hypervisor gave to another guest (steal) is not in it, so
 * on a shared machine it measures the server's work where req/s also measures its neighbours'.
 */
function cpuNs(pid: number | undefined): bigint | undefined {
  if (pid === undefined) return undefined;
  try {
    let total = 0n;
    for (const tid of readdirSync(`/proc/${pid}/task`)) total += BigInt(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0] as string);
    return total;
  } catch {
    return undefined;
  }
}

/** One autocannon run against the server process `pid`. */
async function load(target: Target, seconds: number, pid: number | undefined): Promise<Sample> {
  const before = cpuNs(pid);
  const result = await autocannon({ ...target, connections: 32, duration: seconds });
  const after = cpuNs(pid);
  if (result['2xx'] === 0) throw new Error(`${target.url}: no successful response under load`);
  const cpuUsPerReq = before === undefined || after === undefined || result.requests.total === 0 ? undefined : Number(after - before) / 1000 / result.requests.total;
  return { reqPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.non2xx, cpuUsPerReq };
}

async function answer(target: Target): Promise<{ status: number; body: string }> {
  const response = await fetch(target.url, target);
  return { status: response.status, body: await response.text() };
}

/** A GraphQL query answered as denied: `UNAUTHENTICATED` errors, and no field of `data` answered. */
function deniedQuery(body: string): boolean {
  const { data, errors } = JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: unknown } }> };
  const unanswered = data === null || data === undefined || Object.values(data).every((value) => value === null);
  return unanswered && errors !== undefined && errors.length > 0 && errors.every((error) => error.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * Before any load: every variant answers the signed-in request 200 with `user_bench`, in the very body
 * the no-auth variant gives (the same protected answer), and clerk-api-auth refuses a request without
 * a token — 401, or for a GraphQL query the README's denial: 200, `UNAUTHENTICATED` errors, every field null.
 */
async function check(server: Server, ports: ReadonlyMap<Variant, number>, authorization: string): Promise<void> {
  const bodies = new Map<Variant, string>();
  for (const [variant, port] of ports) {
    const target = server.target(port, { authorization });
    const { status, body } = await answer(target);
    if (status !== 200 || !body.includes('user_bench')) throw new Error(`${server.name}/${variant}: ${target.url} answered ${status} ${body.slice(0, 200)}`);
    bodies.set(variant, JSON.stringify(JSON.parse(body)));
  }
  for (const [variant, body] of bodies) {
    if (body !== bodies.get('none')) throw new Error(`${server.name}/${variant} answers ${body.slice(0, 200)}, not the no-auth answer ${bodies.get('none')?.slice(0, 200)}`);
  }
  const ours = ports.get('ours');
  if (ours === undefined) return;
  const { status, body } = await answer(server.target(ours, {}));
  const denied = !body.includes('user_bench') && (status === 401 || (server.kind === 'graphql' && status === 200 && deniedQuery(body)));
  if (!denied) throw new Error(`${server.name}/ours: a request without a token answered ${status} ${body.slice(0, 200)}; expected a denial`);
}

export async function benchHttp(seconds = 2.5, rounds = 2, replicates = 3): Promise<HttpBench> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_bench', expiresInSeconds: 3600 });
  const env = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_PUBLISHABLE_KEY: issuer.publishableKey };
  const warmup = Number(process.env.BENCH_WARMUP ?? 2);
  const pinned = pinCores();
  const rows: HttpRow[] = [];
  try {
    const only = process.env.BENCH_HTTP?.split(',').map((name) => name.trim());
    const unknown = only?.filter((name) => !SERVERS.some((server) => server.name === name));
    if (unknown?.length) throw new Error(`BENCH_HTTP: unknown server ${unknown.join(', ')}; one of ${SERVERS.map((server) => server.name).join(', ')}`);
    for (const server of SERVERS.filter(({ name }) => only === undefined || only.includes(name))) {
      const { variants } = server;
      const scale = server.short ? 0.6 : 1;
      const samples = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
      // Each replicate is a fresh set of server processes: one process's luck (JIT choices, heap
      // layout) moves its throughput by up to ±10 % against an identical process, so a single pair of
      // processes cannot show a 0.9× target; medians over several pairs can.
      for (let replicate = 0; replicate < replicates; replicate++) {
        const children = await Promise.all(variants.map((variant) => startServer(`${here}http-server.ts`, [server.name, variant], env, pinned?.serverCpu)));
        try {
          const ports = new Map(variants.map((variant, i) => [variant, (children[i] as { port: number }).port]));
          if (replicate === 0) await check(server, ports, `Bearer ${token}`);
          const targets = variants.map((variant) => server.target(ports.get(variant) as number, { authorization: `Bearer ${token}` }));
          const pids = children.map((child) => child.child.pid);
          for (const [i, target] of targets.entries()) await load(target, warmup * scale, pids[i]); // warm-up: JIT, caches
          for (let round = 0; round < rounds; round++) {
            // Rotate the order so no variant always runs first (or last) in a round.
            for (let i = 0; i < variants.length; i++) {
              const index = (i + round + replicate) % variants.length;
              samples.get(variants[index] as Variant)?.push(await load(targets[index] as Target, seconds * scale, pids[index]));
            }
          }
        } finally {
          await Promise.all(children.map((child) => child.stop()));
        }
      }
      const of = (variant: Variant) => samples.get(variant) as Sample[];
      if (process.env.BENCH_VERBOSE) for (const variant of variants) console.error(server.name, variant, of(variant).map((s) => Math.round(s.reqPerSec)).join(' '), '| cpu µs/req', of(variant).map((s) => s.cpuUsPerReq?.toFixed(1)).join(' '));
      const perRound = (variant: Variant, base: Variant) => median(of(variant).map((s, i) => s.reqPerSec / (of(base)[i] as Sample).reqPerSec));
      const cpuOf = (variant: Variant) => of(variant).map((s) => s.cpuUsPerReq);
      const measuredCpu = variants.every((variant) => cpuOf(variant).every((cpu) => cpu !== undefined));
      // Throughput the server's own CPU time allows, relative to no auth: no-auth µs per request / this variant's, per round.
      const cpuRatio = (variant: Variant) => median(of(variant).map((s, i) => ((of('none')[i] as Sample).cpuUsPerReq as number) / (s.cpuUsPerReq as number)));
      for (const variant of variants) {
        rows.push({
          server: server.name,
          label: server.label,
          variant: LABELS[variant],
          reqPerSec: Math.round(median(of(variant).map((s) => s.reqPerSec))),
          p50Ms: median(of(variant).map((s) => s.p50Ms)),
          p99Ms: median(of(variant).map((s) => s.p99Ms)),
          errors: of(variant).reduce((sum, s) => sum + s.errors, 0),
          vsNoAuth: perRound(variant, 'none'),
          ...(measuredCpu && { cpuUsPerReq: median(cpuOf(variant) as number[]), cpuVsNoAuth: cpuRatio(variant) }),
          ...(variants.includes('clerk') && { vsAuthenticateRequest: perRound(variant, 'clerk') }),
        });
      }
    }
  } finally {
    pinned?.restore();
  }
  return { rows, placement: pinned?.placement ?? 'servers and autocannon share every core (no taskset or a single core)' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, placement } = await benchHttp(Number(process.env.BENCH_SECONDS ?? 2.5), Number(process.env.BENCH_ROUNDS ?? 2), Number(process.env.BENCH_REPLICATES ?? 3));
  console.log(placement);
  console.table(
    rows.map(({ vsNoAuth, vsAuthenticateRequest, cpuUsPerReq, cpuVsNoAuth, ...row }) => ({
      ...row,
      vsNoAuth: `${vsNoAuth.toFixed(2)}×`,
      cpuUsPerReq: cpuUsPerReq === undefined ? '' : cpuUsPerReq.toFixed(1),
      cpuVsNoAuth: cpuVsNoAuth === undefined ? '' : `${cpuVsNoAuth.toFixed(2)}×`,
      vsAuthenticateRequest: vsAuthenticateRequest === undefined ? '' : `${vsAuthenticateRequest.toFixed(2)}×`,
    })),
  );
}
