/**
 * Token churn over loopback HTTP: a bare node:http server (bench/churn-server.ts, its own process)
 * with clerk-api-auth (`authenticate`, default cache) vs `authenticateRequest` per request.
 *
 * - Users (CHURN_USERS, default 2,000) each replace their session token every 50 s, as Clerk's
 *   browser SDK does; each user's phase is uniformly random in [0, 50 s), so new tokens arrive at the
 *   real rate (users / 50 per second) from the first second. Every user's first token is presented
 *   once before measuring, then CHURN_WARMUP s (default 2) of the steady load with those tokens
 *   (warm-up of both processes' code paths, not measured).
 * - Steady phase (CHURN_SECONDS, default 20 s, measured in CHURN_ROUNDS interleaved rounds, default 4):
 *   each user calls once every CHURN_CALL_EVERY s on average (default 5 s, so 400 req/s offered),
 *   Poisson arrivals, each request carrying a random user's token current at that elapsed time. The
 *   same arrival schedule is replayed against both servers.
 * - Burst phase: CHURN_BURST (default 10,000) first-seen tokens, one per distinct user, as fast as
 *   autocannon sends them over 100 connections (a restart: every client arrives with a token the
 *   server has never seen; the server process itself keeps running, so this is the cache side of a
 *   restart, not JIT warm-up).
 *
 * Every token is minted up front (in parallel batches) with a 900 s lifetime, so none expires during
 * the run (real session tokens live 60 s; here nothing is evicted for expiry, only for the cache's size).
 *
 * The steady load is an open-loop fixed-rate loader of our own, not autocannon: autocannon's
 * `overallRate` is a per-connection quota refilled once a second, which it sends back to back at the
 * start of each second (a burst per second, not a steady arrival rate), and it times a request from
 * when the connection sends it (closed loop), hiding queueing. Ours sends each request at its
 * scheduled instant over a keep-alive pool and times it from that instant, so a server that falls
 * behind shows it in its latency. The burst, which is closed-loop by nature, uses autocannon.
 *
 * The server reports its event loop (`GET /__stats`): the longest stall (monitorEventLoopDelay at
 * 1 ms resolution, minus that 1 ms) and its utilization, reset between phases; and, as the floor,
 * its longest stall idle for one round's length (on a shared machine, other processes taking the
 * server's CPU show up as stalls too).
 *
 *   npx tsx bench/churn.ts   (TSX_TSCONFIG_PATH=bench/tsconfig.json, after `npx tsdown`;
 *                             CHURN_USERS, CHURN_SECONDS, CHURN_ROUNDS, CHURN_BURST, CHURN_CALL_EVERY, CHURN_WARMUP; BENCH_VERBOSE=1)
 */
import { Agent, request as httpRequest } from 'node:http';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { median } from './median.js';
import { pinCores, startServer, type Server } from './placement.js';
import { prng } from '../test/support/prng.js';

export interface ChurnRow {
  phase: 'steady' | 'burst';
  variant: string;
  /** Offered rate (steady), or `null` for the burst (as fast as it goes). */
  offeredPerSec: number | null;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Longest event-loop stall in the server during the phase. */
  maxStallMs: number;
  /** Longest stall of the same server idle for one round's length (the machine's floor). */
  idleStallMs: number;
  /** Share of the time the server's event loop was busy. */
  loopUtilization: number;
  /** Socket errors plus non-2xx answers (must be 0). */
  errors: number;
  /** Distinct tokens the server saw for the first time during the phase. */
  firstSeen: number;
  /** clerk-api-auth ÷ authenticateRequest (steady: medians of per-round ratios); 1 on the baseline row. */
  reqPerSecVsClerk: number;
  p99VsClerk: number;
  stallVsClerk: number;
}

export interface ChurnBench {
  rows: ChurnRow[];
  placement: string;
  /** How many tokens were minted up front and how long it took. */
  minted: { tokens: number; seconds: number };
  settings: { users: number; seconds: number; rounds: number; burst: number; callEverySeconds: number; rotateSeconds: number; tokenLifetimeSeconds: number };
}

const here = fileURLToPath(new URL('.', import.meta.url));
const VARIANTS = ['ours', 'clerk'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS = { ours: 'clerk-api-auth', clerk: 'authenticateRequest per request' } as const;
const ROTATE_SECONDS = 50;
const LIFETIME_SECONDS = 900;
const BURST_CONNECTIONS = 100;

/** Runs `tasks` in parallel batches of `size` (signing runs on libuv's thread pool, so batches use every core). */
async function inBatches<T>(tasks: readonly (() => Promise<T>)[], size: number): Promise<T[]> {
  const out: T[] = [];
  for (let from = 0; from < tasks.length; from += size) out.push(...(await Promise.all(tasks.slice(from, from + size).map((task) => task()))));
  return out;
}

interface Arrival {
  /** Seconds since the start of the steady phase (this variant's own clock). */
  at: number;
  token: string;
}

interface Outcome {
  ok: number;
  errors: number;
  seconds: number;
  latency: RecordableHistogram;
}

/** One GET /whoami over `agent`; resolves with the status (0 on a socket error). */
function get(agent: Agent, port: number, path: string, token: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, path, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** Open loop: sends each arrival at its instant (`at - offset` s after the start), times it from that instant. */
async function replay(agent: Agent, port: number, arrivals: readonly Arrival[], offset: number): Promise<Outcome> {
  const latency = createHistogram();
  let ok = 0;
  let errors = 0;
  let last = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now() - start;
      while (next < arrivals.length && ((arrivals[next] as Arrival).at - offset) * 1000 <= now) {
        const { at, token } = arrivals[next++] as Arrival;
        const due = start + (at - offset) * 1000;
        inflight.push(
          get(agent, port, '/whoami', token).then(({ status }) => {
            const done = performance.now();
            last = Math.max(last, done);
            latency.record(Math.max(1, Math.round((done - due) * 1000))); // µs
            if (status === 200) ok++;
            else errors++;
          }),
        );
      }
      if (next >= arrivals.length) return resolve();
      setTimeout(tick, Math.max(0, ((arrivals[next] as Arrival).at - offset) * 1000 - (performance.now() - start)));
    };
    tick();
  });
  await Promise.all(inflight);
  return { ok, errors, seconds: (last - start) / 1000, latency };
}

/** Closed loop, `concurrency` at a time, not timed: presents each token once. */
async function present(agent: Agent, port: number, tokens: readonly string[], concurrency: number): Promise<number> {
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) if ((await get(agent, port, '/whoami', tokens[next++])).status !== 200) errors++;
    }),
  );
  return errors;
}

interface LoopStats {
  maxStallMs: number;
  utilization: number;
}

async function loopStats(agent: Agent, port: number): Promise<LoopStats> {
  const { status, body } = await get(agent, port, '/__stats', undefined);
  if (status !== 200) throw new Error(`/__stats answered ${status}`);
  return JSON.parse(body) as LoopStats;
}

/** The burst: each token once, as fast as autocannon sends them over 100 connections. */
async function burst(port: number, tokens: readonly string[], count: number): Promise<{ reqPerSec: number; p50Ms: number; p99Ms: number; errors: number; firstSeen: number }> {
  let next = 0;
  const start = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/whoami`,
    connections: Math.min(BURST_CONNECTIONS, count),
    amount: count,
    requests: [
      {
        // A connection may build one request it never sends (after its last answer): the spare
        // tokens beyond `count` cover that, so every request sent carries a token sent once.
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[Math.min(next++, tokens.length - 1)] as string}` } }),
      },
    ],
  });
  const seconds = (performance.now() - start) / 1000;
  const answered = result['2xx'] + result.non2xx;
  return {
    reqPerSec: answered / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    firstSeen: next <= tokens.length ? answered : tokens.length - 1, // all distinct unless the spares ran out
  };
}

async function check(agent: Agent, port: number, token: string, userId: string): Promise<void> {
  const good = await get(agent, port, '/whoami', token);
  if (good.status !== 200 || (JSON.parse(good.body) as { userId?: string }).userId !== userId) throw new Error(`churn server: a valid token answered ${good.status} ${good.body.slice(0, 200)}`);
  const bad = await get(agent, port, '/whoami', `${token.slice(0, -4)}AAAA`);
  if (bad.status !== 401) throw new Error(`churn server: a forged token answered ${bad.status}`);
}

type BurstResult = Awaited<ReturnType<typeof burst>> & { loop: LoopStats };

const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Number.POSITIVE_INFINITY) : a / b);

export async function benchChurn(): Promise<ChurnBench> {
  const users = Number(process.env.CHURN_USERS ?? 2000);
  const seconds = Number(process.env.CHURN_SECONDS ?? 20);
  const rounds = Math.max(1, Number(process.env.CHURN_ROUNDS ?? 4));
  const burstCount = Number(process.env.CHURN_BURST ?? 10_000);
  const callEvery = Number(process.env.CHURN_CALL_EVERY ?? 5);
  const verbose = process.env.BENCH_VERBOSE !== undefined;
  const rand = prng(0xc1e7c);

  // --- Tokens, all minted up front.
  const issuer = await createTestIssuer();
  const phase = Array.from({ length: users }, () => rand() * ROTATE_SECONDS);
  const perUser = phase.map((p) => Math.floor((seconds + p) / ROTATE_SECONDS) + 1);
  const mint = (userId: string) => () => issuer.sessionToken({ userId, expiresInSeconds: LIFETIME_SECONDS });
  const spare = 2 * BURST_CONNECTIONS;
  const tasks = [
    ...perUser.flatMap((count, u) => Array.from({ length: count }, () => mint(`user_churn_${u}`))),
    ...Array.from({ length: burstCount + spare }, (_, i) => mint(`user_burst_${i}`)),
    mint('user_check'),
  ];
  const mintStart = performance.now();
  const minted = await inBatches(tasks, 500);
  const mintSeconds = (performance.now() - mintStart) / 1000;
  const userTokens: string[][] = [];
  let k = 0;
  for (const count of perUser) userTokens.push(minted.slice(k, (k += count)));
  const burstTokens = minted.slice(k, (k += burstCount + spare));
  const checkToken = minted[k] as string;
  if (verbose) console.error(`minted ${minted.length} tokens in ${mintSeconds.toFixed(1)} s`);

  // --- The steady schedule: Poisson arrivals at users / callEvery per second, a random user each.
  const rate = users / callEvery;
  const arrivals: Arrival[] = [];
  for (let at = -Math.log(1 - rand()) / rate; at < seconds; at += -Math.log(1 - rand()) / rate) {
    const u = Math.floor(rand() * users);
    arrivals.push({ at, token: (userTokens[u] as string[])[Math.floor((at + (phase[u] as number)) / ROTATE_SECONDS)] as string });
  }
  const firstTokens = userTokens.map((tokens) => tokens[0] as string);
  const warmSeconds = Number(process.env.CHURN_WARMUP ?? 2);
  const warmArrivals = arrivals.filter(({ at }) => at < warmSeconds).map(({ at }) => ({ at, token: firstTokens[Math.floor(rand() * users)] as string }));
  const warm = new Set(firstTokens);
  const roundLength = seconds / rounds;
  const roundArrivals = Array.from({ length: rounds }, (_, r) => arrivals.filter(({ at }) => at >= r * roundLength && at < (r + 1) * roundLength));
  const firstSeenSteady = new Set(arrivals.map(({ token }) => token).filter((token) => !warm.has(token))).size;

  // --- Servers.
  const env = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_PUBLISHABLE_KEY: issuer.publishableKey };
  const pinned = pinCores();
  const rows: ChurnRow[] = [];
  const servers = new Map<Variant, Server>();
  const agents = new Map<Variant, Agent>(VARIANTS.map((variant) => [variant, new Agent({ keepAlive: true, maxSockets: 128 })]));
  try {
    for (const variant of VARIANTS) servers.set(variant, await startServer(`${here}churn-server.ts`, [variant], env, pinned?.serverCpu));
    const port = (variant: Variant) => (servers.get(variant) as Server).port;
    const agent = (variant: Variant) => agents.get(variant) as Agent;

    const idle = new Map<Variant, number>();
    // Warm-up: every user's current token, once (not measured).
    for (const variant of VARIANTS) {
      await check(agent(variant), port(variant), checkToken, 'user_check');
      const errors = await present(agent(variant), port(variant), firstTokens, 32);
      // Then the steady load's code paths (here and in the server) at the offered rate, tokens already seen.
      const rehearsal = await replay(agent(variant), port(variant), warmArrivals, 0);
      if (errors + rehearsal.errors > 0) throw new Error(`${variant}: ${errors + rehearsal.errors} warm-up requests failed`);
      // The floor: the longest stall with no load at all (GC, timers, and on a shared machine other
      // processes taking the server's CPU), over one round's length.
      await loopStats(agent(variant), port(variant)); // reset
      await new Promise((resolve) => setTimeout(resolve, roundLength * 1000));
      idle.set(variant, (await loopStats(agent(variant), port(variant))).maxStallMs);
    }

    // Steady: interleaved rounds, each variant on its own clock over the same schedule.
    const steady = new Map<Variant, { outcome: Outcome; loop: LoopStats }[]>(VARIANTS.map((variant) => [variant, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(i + r) % VARIANTS.length] as Variant;
        const outcome = await replay(agent(variant), port(variant), roundArrivals[r] as Arrival[], r * roundLength);
        const loop = await loopStats(agent(variant), port(variant));
        steady.get(variant)?.push({ outcome, loop });
        if (verbose) console.error(`steady round ${r} ${variant}: ${(outcome.ok / outcome.seconds).toFixed(0)} req/s, p99 ${(outcome.latency.percentile(99) / 1000).toFixed(2)} ms, stall ${loop.maxStallMs.toFixed(1)} ms, errors ${outcome.errors}`);
      }
    }
    const of = (variant: Variant) => steady.get(variant) as { outcome: Outcome; loop: LoopStats }[];
    const perSec = (s: { outcome: Outcome }) => (s.outcome.ok + s.outcome.errors) / s.outcome.seconds;
    const p99 = (s: { outcome: Outcome }) => s.outcome.latency.percentile(99) / 1000;
    const perRound = (variant: Variant, value: (s: { outcome: Outcome; loop: LoopStats }) => number) => median(of(variant).map((s, i) => ratio(value(s), value(of('clerk')[i] as { outcome: Outcome; loop: LoopStats }))));
    for (const variant of VARIANTS) {
      const all = createHistogram();
      for (const { outcome } of of(variant)) all.add(outcome.latency);
      const answered = of(variant).reduce((sum, s) => sum + s.outcome.ok + s.outcome.errors, 0);
      const busy = of(variant).reduce((sum, s) => sum + s.outcome.seconds, 0);
      rows.push({
        phase: 'steady',
        variant: LABELS[variant],
        offeredPerSec: Math.round(arrivals.length / seconds),
        reqPerSec: Math.round(answered / busy),
        p50Ms: all.percentile(50) / 1000,
        p99Ms: all.percentile(99) / 1000,
        maxStallMs: Math.max(...of(variant).map((s) => s.loop.maxStallMs)),
        idleStallMs: idle.get(variant) ?? Number.NaN,
        loopUtilization: median(of(variant).map((s) => s.loop.utilization)),
        errors: of(variant).reduce((sum, s) => sum + s.outcome.errors, 0),
        firstSeen: firstSeenSteady,
        reqPerSecVsClerk: perRound(variant, perSec),
        p99VsClerk: perRound(variant, p99),
        stallVsClerk: perRound(variant, (s) => s.loop.maxStallMs),
      });
    }

    // Burst: the same first-seen tokens to each server (clerk first here, as ours ran first in round 0).
    const bursts = new Map<Variant, BurstResult>();
    for (const variant of [...VARIANTS].reverse()) {
      await loopStats(agent(variant), port(variant)); // reset
      const result = await burst(port(variant), burstTokens, burstCount);
      bursts.set(variant, { ...result, loop: await loopStats(agent(variant), port(variant)) });
    }
    const b = (variant: Variant) => bursts.get(variant) as BurstResult;
    for (const variant of VARIANTS) {
      rows.push({
        phase: 'burst',
        variant: LABELS[variant],
        offeredPerSec: null,
        reqPerSec: Math.round(b(variant).reqPerSec),
        p50Ms: b(variant).p50Ms,
        p99Ms: b(variant).p99Ms,
        maxStallMs: b(variant).loop.maxStallMs,
        idleStallMs: idle.get(variant) ?? Number.NaN,
        loopUtilization: b(variant).loop.utilization,
        errors: b(variant).errors,
        firstSeen: b(variant).firstSeen,
        reqPerSecVsClerk: ratio(b(variant).reqPerSec, b('clerk').reqPerSec),
        p99VsClerk: ratio(b(variant).p99Ms, b('clerk').p99Ms),
        stallVsClerk: ratio(b(variant).loop.maxStallMs, b('clerk').loop.maxStallMs),
      });
    }
  } finally {
    for (const agent of agents.values()) agent.destroy();
    await Promise.all([...servers.values()].map((server) => server.stop()));
    pinned?.restore();
  }
  return {
    rows,
    placement: pinned?.placement ?? 'server and load generator share every core (no taskset or a single core)',
    minted: { tokens: minted.length, seconds: mintSeconds },
    settings: { users, seconds, rounds, burst: burstCount, callEverySeconds: callEvery, rotateSeconds: ROTATE_SECONDS, tokenLifetimeSeconds: LIFETIME_SECONDS },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  const { rows, placement, minted, settings } = await benchChurn();
  console.log(
    `${settings.users} users rotating every ${settings.rotateSeconds} s, one call per ${settings.callEverySeconds} s each, ${settings.seconds} s measured in ${settings.rounds} interleaved rounds; ` +
      `burst of ${settings.burst} first-seen tokens over ${BURST_CONNECTIONS} connections; tokens live ${settings.tokenLifetimeSeconds} s; ${placement}.`,
  );
  console.log(`Minted ${minted.tokens} tokens in ${minted.seconds.toFixed(1)} s; whole run ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.table(
    rows.map((row) => ({
      ...row,
      p50Ms: Number(row.p50Ms.toFixed(2)),
      p99Ms: Number(row.p99Ms.toFixed(2)),
      maxStallMs: Number(row.maxStallMs.toFixed(1)),
      idleStallMs: Number(row.idleStallMs.toFixed(1)),
      loopUtilization: Number(row.loopUtilization.toFixed(2)),
      reqPerSecVsClerk: `${row.reqPerSecVsClerk.toFixed(2)}×`,
      p99VsClerk: `${row.p99VsClerk.toFixed(2)}×`,
      stallVsClerk: `${row.stallVsClerk.toFixed(2)}×`,
    })),
  );
}
