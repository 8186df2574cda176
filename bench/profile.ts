/**
 * Where a server's time goes, no auth vs clerk-api-auth: each variant of one bench/http-server.ts
 * server in its own process under V8's sampling profiler (started after a warm-up), loaded with
 * autocannon as bench/http.ts loads it, and the profile's self time split by who runs it (this
 * package's built code, each npm package, Node's own modules, the garbage collector, V8's native
 * code), in µs of one CPU per request. The variants run one after the other, so a slower patch of
 * the machine inflates every line of one of them alike; the package's own line, and its share of
 * its variant's busy time, do not depend on that.
 *
 *   npm run bench:profile                 (Mercurius; BENCH_PROFILE_SERVER=<a bench/http.ts server
 *                                          name>, BENCH_SECONDS (default 10), BENCH_TOP (functions, 15))
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestIssuer } from 'clerk-api-auth/testing';
import { SERVERS } from './http.js';
import { pinCores, startServer } from './placement.js';

/** The parts of a `.cpuprofile` read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

interface Split {
  requests: number;
  /** µs of self time per category, and per function of this package. */
  byCategory: Map<string, number>;
  byFunction: Map<string, number>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const packageDist = fileURLToPath(new URL('../dist/', import.meta.url));
const IDLE = '(idle)';

/** Who runs a frame: this package, an npm package, a Node module, or V8 itself. */
function categoryOf(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)' || functionName === '(garbage collector)' || functionName === '(program)') return functionName;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(packageDist)) return 'clerk-api-auth';
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (npm) return npm[1] as string;
  if (path.startsWith('node:')) return 'node (JavaScript)';
  return path === '' ? 'V8 / native' : 'other';
}

function split(profile: CpuProfile, requests: number): Split {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (frame === undefined) return;
    const category = categoryOf(frame);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    if (category === 'clerk-api-auth') {
      const name = `${frame.functionName || '(anonymous)'} (${frame.url.split('/').pop()}:${frame.lineNumber + 1})`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    }
  });
  return { requests, byCategory, byFunction };
}

const busy = (s: Split): number => [...s.byCategory].reduce((sum, [category, us]) => (category === IDLE ? sum : sum + us), 0) / s.requests;
const perRequest = (s: Split, category: string): number => (s.byCategory.get(category) ?? 0) / s.requests;

async function main(): Promise<void> {
  const name = process.env.BENCH_PROFILE_SERVER ?? 'mercurius';
  const server = SERVERS.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`BENCH_PROFILE_SERVER: no server ${name} (${SERVERS.map((s) => s.name).join(', ')})`);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const top = Number(process.env.BENCH_TOP ?? 15);
  const issuer = await createTestIssuer();
  const env = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_PUBLISHABLE_KEY: issuer.publishableKey };
  const authorization = `Bearer ${await issuer.sessionToken({ userId: 'user_bench', expiresInSeconds: 3600 })}`;
  const dir = mkdtempSync(join(tmpdir(), 'clerk-api-auth-profile-'));
  const pinned = pinCores();
  const splits = new Map<string, Split>();
  try {
    for (const variant of ['none', 'ours'] as const) {
      const file = join(dir, `${variant}.cpuprofile`);
      const started = await startServer(`${here}http-server.ts`, [name, variant], { ...env, BENCH_CPU_PROFILE: file }, pinned?.serverCpu);
      try {
        const target = server.target(started.port, { authorization });
        await autocannon({ ...target, connections: 32, duration: 2 });
        started.child.kill('SIGUSR2');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const result = await autocannon({ ...target, connections: 32, duration: seconds });
        if (result['2xx'] !== result.requests.total) throw new Error(`${variant}: ${result.requests.total - result['2xx']} of ${result.requests.total} answers were not 2xx`);
        await started.stop();
        splits.set(variant, split(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, result.requests.total));
      } finally {
        await started.stop();
      }
    }
  } finally {
    pinned?.restore();
    rmSync(dir, { recursive: true, force: true });
  }
  const none = splits.get('none') as Split;
  const ours = splits.get('ours') as Split;
  const categories = [...new Set([...none.byCategory.keys(), ...ours.byCategory.keys()])].filter((category) => category !== IDLE);
  categories.sort((a, b) => perRequest(ours, b) + perRequest(none, b) - perRequest(ours, a) - perRequest(none, a));
  console.log(`${server.label}: self time per request, µs of one CPU (${seconds} s of load each; ${pinned?.placement ?? 'unpinned'})`);
  console.table(
    [
      ...categories.map((category) => ({ who: category, 'no auth': perRequest(none, category).toFixed(2), 'clerk-api-auth': perRequest(ours, category).toFixed(2) })),
      { who: 'busy (all but idle)', 'no auth': busy(none).toFixed(1), 'clerk-api-auth': busy(ours).toFixed(1) },
      { who: 'requests profiled', 'no auth': String(none.requests), 'clerk-api-auth': String(ours.requests) },
    ],
  );
  const own = perRequest(ours, 'clerk-api-auth');
  console.log(
    `clerk-api-auth's own code: ${own.toFixed(2)} µs per request, ${((own / busy(ours)) * 100).toFixed(1)} % of its server's busy time; ` +
      `against the no-auth server's ${busy(none).toFixed(1)} µs, that code alone allows ${(busy(none) / (busy(none) + own)).toFixed(3)}× no-auth.`,
  );
  console.table(
    [...ours.byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ function: fn, 'µs/request': (us / ours.requests).toFixed(2) })),
  );
}

await main();
