/**
 * Cold RS256 verification over HTTP: on the main thread or on libuv's thread pool — which serves more
 * requests per second on Node? A bare node:http server (bench/cold-http-server.ts, its own process)
 * verifies every request's token in full (no cache), three ways: `crypto.verify` synchronously
 * (`main`), `crypto.verify` with a callback (`pool`, libuv's thread pool, default 4 threads) and
 * `crypto.subtle.verify` (`webcrypto`); each decodes header and payload and answers the `sub`.
 *
 * autocannon, 32 connections, the three variants in interleaved rounds (ratios are medians of
 * per-round ratios vs `main`), in two placements:
 * - pinned: the server (every thread, its pool included) on the last CPU, autocannon on the others,
 *   as in bench/http.ts — a 1-vCPU container, where pool threads share the one CPU;
 * - unpinned: server and autocannon share every core (the pool can use the cores the load leaves).
 * Each row also gives the server's CPU time per request and per second (`GET /__cpu`, every thread):
 * on a shared machine a process with more runnable threads gets a bigger share of a contended CPU,
 * which req/s alone would credit to the variant.
 *
 *   npx tsx bench/cold-http.ts   (TSX_TSCONFIG_PATH=bench/tsconfig.json, after `npx tsdown`;
 *                                 COLD_SECONDS, COLD_ROUNDS, COLD_WARMUP; COLD_PLACEMENTS=pinned,unpinned; BENCH_VERBOSE=1)
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { median } from './median.js';
import { pinCores, startServer, type Server } from './placement.js';

export interface ColdHttpRow {
  placement: 'pinned' | 'unpinned';
  variant: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** req/s ÷ `main`'s, median of per-round ratios. */
  vsMain: number;
  /** p99 ÷ `main`'s, median of per-round ratios. */
  p99VsMain: number;
  /** Server CPU time (all its threads) per answered request, µs: on a CPU of its own, ≈ 1e6 ÷ the req/s it can reach. */
  cpuUsPerReq: number;
  /** Server CPU time per wall-clock second (1 = one core busy): below 1 when pinned means it was waiting or another process had the CPU. */
  serverCores: number;
}

export interface ColdHttpBench {
  rows: ColdHttpRow[];
  /** What each placement meant on this machine. */
  placements: Record<'pinned' | 'unpinned', string>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const VARIANTS = ['main', 'pool', 'webcrypto'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS = {
  main: 'crypto.verify, main thread (sync)',
  pool: 'crypto.verify + callback, thread pool',
  webcrypto: 'crypto.subtle.verify',
} as const;
interface Sample {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuUsPerReq: number;
  cores: number;
}

async function cpuUs(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/__cpu`);
  return ((await response.json()) as { cpuUs: number }).cpuUs;
}

async function load(port: number, token: string, seconds: number): Promise<Sample> {
  const before = await cpuUs(port);
  const start = performance.now();
  const result = await autocannon({ url: `http://127.0.0.1:${port}/whoami`, headers: { authorization: `Bearer ${token}` }, connections: 32, duration: seconds });
  const wallMs = performance.now() - start;
  const used = (await cpuUs(port)) - before;
  if (result['2xx'] === 0) throw new Error(`port ${port}: no successful response under load`);
  const answered = result['2xx'] + result.non2xx;
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuUsPerReq: used / answered,
    cores: used / 1000 / wallMs,
  };
}

async function check(port: number, token: string, userId: string): Promise<void> {
  const good = await fetch(`http://127.0.0.1:${port}/whoami`, { headers: { authorization: `Bearer ${token}` } });
  const body = await good.text();
  if (good.status !== 200 || !body.includes(userId)) throw new Error(`cold server: a valid token answered ${good.status} ${body.slice(0, 200)}`);
  const forged = await fetch(`http://127.0.0.1:${port}/whoami`, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
  await forged.text();
  if (forged.status !== 401) throw new Error(`cold server: a forged token answered ${forged.status}`);
}

export async function benchColdHttp(seconds = Number(process.env.COLD_SECONDS ?? 2.5), rounds = Number(process.env.COLD_ROUNDS ?? 4)): Promise<ColdHttpBench> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_cold', expiresInSeconds: 3600 });
  const env = { BENCH_JWK: JSON.stringify(issuer.jwks.keys[0]) };
  const warmup = Number(process.env.COLD_WARMUP ?? 1);
  const only = process.env.COLD_PLACEMENTS?.split(',');
  const rows: ColdHttpRow[] = [];
  const placements = { pinned: 'not run', unpinned: 'not run' };
  for (const placement of (['pinned', 'unpinned'] as const).filter((name) => only === undefined || only.includes(name))) {
    const pinned = placement === 'pinned' ? pinCores() : undefined;
    if (placement === 'pinned' && pinned === undefined) {
      placements.pinned = 'skipped: needs Linux, taskset and two cores';
      continue;
    }
    placements[placement] = pinned?.placement ?? 'server and autocannon share every core';
    const servers: Server[] = [];
    const samples = new Map<Variant, Sample[]>(VARIANTS.map((variant) => [variant, []]));
    try {
      for (const variant of VARIANTS) servers.push(await startServer(`${here}cold-http-server.ts`, [variant], env, pinned?.serverCpu));
      for (const server of servers) {
        await check(server.port, token, 'user_cold');
        await load(server.port, token, warmup);
      }
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < VARIANTS.length; i++) {
          const index = (i + round) % VARIANTS.length;
          samples.get(VARIANTS[index] as Variant)?.push(await load((servers[index] as Server).port, token, seconds));
        }
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      pinned?.restore();
    }
    const of = (variant: Variant) => samples.get(variant) as Sample[];
    if (process.env.BENCH_VERBOSE) for (const variant of VARIANTS) console.error(placement, variant, of(variant).map((s) => Math.round(s.reqPerSec)).join(' '));
    const perRound = (variant: Variant, value: (s: Sample) => number) => median(of(variant).map((s, i) => value(s) / value(of('main')[i] as Sample)));
    for (const variant of VARIANTS) {
      rows.push({
        placement,
        variant: LABELS[variant],
        reqPerSec: Math.round(median(of(variant).map((s) => s.reqPerSec))),
        p50Ms: median(of(variant).map((s) => s.p50Ms)),
        p99Ms: median(of(variant).map((s) => s.p99Ms)),
        errors: of(variant).reduce((sum, s) => sum + s.errors, 0),
        vsMain: perRound(variant, (s) => s.reqPerSec),
        p99VsMain: perRound(variant, (s) => s.p99Ms),
        cpuUsPerReq: median(of(variant).map((s) => s.cpuUsPerReq)),
        serverCores: median(of(variant).map((s) => s.cores)),
      });
    }
  }
  return { rows, placements };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  const { rows, placements } = await benchColdHttp();
  console.log(`pinned: ${placements.pinned}; unpinned: ${placements.unpinned}. autocannon, 32 connections, ${process.env.COLD_ROUNDS ?? 4} interleaved rounds of ${process.env.COLD_SECONDS ?? 2.5} s; ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.table(rows.map((row) => ({ ...row, vsMain: `${row.vsMain.toFixed(2)}×`, p99VsMain: `${row.p99VsMain.toFixed(2)}×`, cpuUsPerReq: Number(row.cpuUsPerReq.toFixed(1)), serverCores: Number(row.serverCores.toFixed(2)) })));
}
