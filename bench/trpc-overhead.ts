/**
 * Per-call overhead of `protectedProcedure` (and of `authorize` / `.meta({ auth })` on top of it)
 * against a public procedure with the same resolver, measured in one process with tinybench, two ways:
 *
 * - `createCaller` with a context built once from a fixed valid token: the guard alone;
 * - the fetch adapter, Request → Response with `createClerkContext` (the token verified once, then
 *   served from the core's verified-token cache): what a request costs end to end.
 *
 * Reported as ratios to the public procedure of the same group: medians of three rounds, each in a
 * rotated order. No assertion on times.
 *
 *   npx tsx bench/trpc-overhead.ts
 */
import { pathToFileURL } from 'node:url';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { Bench } from 'tinybench';
import { median as middle, medianUs as median } from './median.js';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { clerkContextFromToken, clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

export interface OverheadRow {
  group: 'createCaller' | 'fetch adapter';
  procedure: string;
  medianUs: number;
  ratio: string;
  overheadUs: number;
}


export async function benchTrpcOverhead(timeMs = 1500): Promise<OverheadRow[]> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_1', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] }, expiresInSeconds: 3600 });
  const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });

  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
  const { protectedProcedure, authorize } = clerkProcedures(t);
  const result = { ok: true };
  const router = t.router({
    public: t.procedure.query(() => result),
    noop: t.procedure.use(({ next }) => next()).query(() => result),
    protected: protectedProcedure.query(() => result),
    role: protectedProcedure.use(authorize({ role: 'org:admin' })).query(() => result),
    meta: protectedProcedure.meta({ auth: { permission: 'org:notes:create' } }).query(() => result),
  });

  const caller = router.createCaller(await clerkContextFromToken(token, clerkAuth));
  const createContext = createClerkContext(clerkAuth);
  const requests = Object.fromEntries(
    (['public', 'noop', 'protected', 'role', 'meta'] as const).map((path) => [path, new Request(`http://localhost/trpc/${path}`, { headers: { authorization: `Bearer ${token}` } })]),
  ) as Record<'public' | 'noop' | 'protected' | 'role' | 'meta', Request>;
  const handle = async (path: keyof typeof requests) => {
    const response = await fetchRequestHandler({ endpoint: '/trpc', req: requests[path], router, createContext });
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    await response.arrayBuffer();
  };

  const procedures = [
    ['public', 't.procedure (public)'],
    ['noop', 't.procedure + a no-op middleware (tRPC floor)'],
    ['protected', 'protectedProcedure'],
    ['role', "protectedProcedure + authorize({ role: 'org:admin' })"],
    ['meta', "protectedProcedure + .meta({ auth: { permission } })"],
  ] as const;
  // Tasks run one after another, so a slow patch of the machine would favour whichever ran elsewhere:
  // three rounds, each in a rotated order, and the median of each task's round medians is kept.
  const tasks: Array<[string, () => Promise<unknown>]> = [
    ...procedures.map(([path, label]): [string, () => Promise<unknown>] => [`createCaller|${label}`, () => caller[path]()]),
    ...procedures.map(([path, label]): [string, () => Promise<unknown>] => [`fetch adapter|${label}`, () => handle(path)]),
  ];
  const samples = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) {
    const bench = new Bench({ time: timeMs / 3, warmup: true });
    for (let i = 0; i < tasks.length; i++) bench.add(...(tasks[(i + round * 4) % tasks.length] as [string, () => Promise<unknown>]));
    await bench.run();
    for (const task of bench.tasks) samples.set(task.name, [...(samples.get(task.name) ?? []), median(task)]);
  }

  const rows = tasks.map(([name]) => {
    const [group, procedure] = name.split('|') as [OverheadRow['group'], string];
    return { group, procedure, medianUs: middle(samples.get(name) ?? []) };
  });
  return rows.map((row) => {
    const base = rows.find((candidate) => candidate.group === row.group)?.medianUs ?? Number.NaN;
    return { ...row, medianUs: round(row.medianUs), ratio: `${(row.medianUs / base).toFixed(2)}×`, overheadUs: round(row.medianUs - base) };
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchTrpcOverhead();
  console.log(`tRPC per-call overhead, Node ${process.version}, medians (µs); ratio = procedure / public procedure of the same group`);
  console.table(rows);
}
