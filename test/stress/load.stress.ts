
/**
 * Sustained load through both reference servers, loopback only, bounded in time and in count.
 *
 * Each server runs in its own process (configured from env vars only, keys from the fake Backend
 * API's JWKS) so that its memory is its own. 1,000 distinct users, two sessions each, plus expired,
 * forged, tampered, garbage, wrong-party, pending, machine and missing credentials, and tokens that
 * expire during the run, sent at high concurrency to both servers at once. Every response is checked:
 * the identity it answers is the token's subject and session (zero misattribution, the verified-token
 * cache included), every status is the one the contract gives, no token is accepted after it expired,
 * the access log saw every request and no credential, and memory is flat after warm-up.
 *
 *   npm run test:stress                     (CLERK_API_AUTH_STRESS_SECONDS=180 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createHistogram } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { prng } from '../support/prng.js';

const SECONDS = Number(process.env.CLERK_API_AUTH_STRESS_SECONDS ?? 180);
const WARMUP_SECONDS = Math.min(20, Math.max(5, Math.round(SECONDS / 8)));
const CONCURRENCY = Number(process.env.CLERK_API_AUTH_STRESS_CONCURRENCY ?? 64);
const MAX_REQUESTS = 5_000_000;
const USERS = 1000;
const PARTY = 'http://localhost:3000';
const SKEW_MS = 5000;
const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

type Kind = 'valid' | 'expiring' | 'expired' | 'forged' | 'tampered' | 'garbage' | 'other-party' | 'pending' | 'machine' | 'none';
interface Credential {
  kind: Kind;
  token?: string;
  userId?: string;
  sessionId?: string;
  /** For `expiring`: when it stops verifying (exp + skew), ms. */
  validUntil?: number;
}
type Transport = 'trpc' | 'graphql';
type Operation = 'identity' | 'me' | 'batch';

interface Child {
  process: ChildProcess;
  url: string;
  ask<T>(message: object, type: string): Promise<T>;
}

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

interface Tally {
  sent: number;
  statuses: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  misattributed: number;
  letIn: number;
  lateAccepts: number;
  unexpected: number;
  samples: string[];
  histogram: ReturnType<typeof createHistogram>;
}

let issuer: TestIssuer;
let stranger: TestIssuer;
let api: FakeClerkApi;
const children: Partial<Record<Transport, Child>> = {};
const valid: Credential[] = [];
const pool: Array<{ weight: number; items: Credential[] }> = [];

async function startChild(transport: Transport, env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `${here}server-process.ts`, transport], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${transport} server did not start`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${transport} server exited (${String(code)})`)));
    child.on('message', (message: { type: string; url?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url as string);
      }
    });
  });
  return {
    process: child,
    url,
    ask: <T>(message: object, type: string) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${transport} server did not answer ${type}`)), 30_000);
        const onMessage = (reply: { type: string }) => {
          if (reply.type !== type) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(reply as T);
        };
        child.on('message', onMessage);
        child.send(message);
      }),
  };
}

async function stopChild(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
  child.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
}

const memory = async (child: Child, gc: boolean): Promise<Memory> => (await child.ask<{ usage: Memory }>({ type: 'memory', gc }, 'memory')).usage;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  const users = Array.from({ length: USERS }, (_, i) => `user_load_${String(i).padStart(4, '0')}`);
  api = await startFakeClerkApi({ issuer, users: users.map((id) => ({ id, email: `${id}@example.com` })) });
  const org = { id: 'org_load', role: 'member', permissions: ['org:notes:create'] } as const;
  const expiring: Credential[] = [];
  const expired: Credential[] = [];
  const forged: Credential[] = [];
  const tampered: Credential[] = [];
  const otherParty: Credential[] = [];
  const pending: Credential[] = [];
  for (const [i, userId] of users.entries()) {
    for (let s = 0; s < 2; s++) {
      const sessionId = `sess_load_${i}_${s}`;
      valid.push({ kind: 'valid', token: await issuer.sessionToken({ userId, sessionId, org, expiresInSeconds: 3600 }), userId, sessionId });
    }
    expired.push({ kind: 'expired', token: await issuer.sessionToken({ userId, org, expiresInSeconds: -30 - (i % 300) }) });
    if (i % 5 === 0) {
      forged.push({ kind: 'forged', token: await stranger.sessionToken({ userId, org, expiresInSeconds: 3600 }) });
      // Genuine header and payload of one user, the signature of another's genuine token.
      const a = valid[2 * i]?.token as string;
      const b = valid[(2 * i + 7) % valid.length]?.token ?? a;
      tampered.push({ kind: 'tampered', token: `${a.split('.').slice(0, 2).join('.')}.${b.split('.')[2]}` });
    }
    if (i % 10 === 0) {
      otherParty.push({ kind: 'other-party', token: await issuer.sessionToken({ userId, azp: 'https://evil.example', expiresInSeconds: 3600 }) });
      pending.push({ kind: 'pending', token: await issuer.sessionToken({ userId, status: 'pending', expiresInSeconds: 3600 }) });
    }
    if (i % 4 === 0) {
      // Expires (exp + skew) somewhere in the run.
      const lifetime = Math.round(WARMUP_SECONDS + ((i / USERS) * SECONDS) - SKEW_MS / 1000);
      const sessionId = `sess_expiring_${i}`;
      const token = await issuer.sessionToken({ userId, sessionId, org, expiresInSeconds: lifetime });
      const exp = Number(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp);
      expiring.push({ kind: 'expiring', token, userId, sessionId, validUntil: exp * 1000 + SKEW_MS });
    }
  }
  const machine = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.m2mToken({ machineId: `mch_load_${i}` })));
  const garbage = ['garbage', 'a.b.c', `${valid[0]?.token}x`, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyX2xvYWRfMDAwMCJ9.', `Bearer`].map((token) => ({ kind: 'garbage' as const, token }));
  pool.push(
    { weight: 68, items: valid },
    { weight: 6, items: expiring },
    { weight: 8, items: expired },
    { weight: 3, items: forged },
    { weight: 3, items: tampered },
    { weight: 2, items: garbage },
    { weight: 2, items: otherParty },
    { weight: 2, items: pending },
    { weight: 2, items: machine.map((token) => ({ kind: 'machine' as const, token })) },
    { weight: 4, items: [{ kind: 'none' }] },
  );

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    CLERK_TELEMETRY_DISABLED: '1',
    CLERK_SECRET_KEY: issuer.secretKey,
    CLERK_API_URL: api.apiUrl,
    CLERK_AUTHORIZED_PARTIES: PARTY,
  };
  const [trpc, graphql] = await Promise.all([startChild('trpc', env), startChild('graphql', env)]);
  children.trpc = trpc;
  children.graphql = graphql;
}, 180_000);

afterAll(async () => {
  await Promise.all([stopChild(children.trpc), stopChild(children.graphql)]);
  await api?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(agent: Agent, url: URL, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: url.hostname, port: url.port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

function request(transport: Transport, base: URL, operation: Operation, credential: Credential): { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = credential.token === undefined ? {} : { authorization: `Bearer ${credential.token}` };
  if (transport === 'trpc') {
    const path = operation === 'identity' ? '/trpc/whoami' : operation === 'me' ? '/trpc/me' : `/trpc/whoami,notes.list?batch=1&input=${encodeURIComponent('{}')}`;
    return { method: 'GET', path, headers };
  }
  const query = operation === 'me' ? '{ me { id } }' : '{ notes { authorId text } }';
  return { method: 'POST', path: base.pathname, headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify({ query }) };
}

type Verdict = 'ok' | 'misattributed' | 'let-in' | 'unexpected';

/** What the contract says this credential must get, and whether it did. */
function judge(transport: Transport, operation: Operation, credential: Credential, answer: Answer, sentAt: number): Verdict {
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'unexpected';
  }
  const signedIn = credential.kind === 'valid' || (credential.kind === 'expiring' && answer.status === 200);
  if (credential.kind === 'expiring' && answer.status !== 200) {
    // Only once expired, and only as an expired token.
    const challenge = String(answer.headers['www-authenticate'] ?? '');
    return answer.status === 401 && challenge.includes('token-expired') && sentAt >= (credential.validUntil as number) - 2000 ? 'ok' : 'unexpected';
  }
  if (signedIn) {
    if (answer.status !== 200) return 'unexpected';
    const { userId, sessionId } = credential;
    if (transport === 'trpc') {
      if (operation === 'identity') {
        const data = (body as { result?: { data?: { userId?: unknown; sessionId?: unknown } } }).result?.data;
        return data?.userId === userId && data?.sessionId === sessionId ? 'ok' : 'misattributed';
      }
      if (operation === 'me') {
        const data = (body as { result?: { data?: { id?: unknown; email?: unknown } } }).result?.data;
        return data?.id === userId && data?.email === `${userId}@example.com` ? 'ok' : 'misattributed';
      }
      const [who, notes] = body as [{ result?: { data?: { userId?: unknown; sessionId?: unknown } } }, { result?: { data?: unknown } }];
      return who?.result?.data?.userId === userId && who?.result?.data?.sessionId === sessionId && Array.isArray(notes?.result?.data) ? 'ok' : 'misattributed';
    }
    const { data, errors } = body as { data?: { notes?: Array<{ authorId: unknown; text: unknown }>; me?: { id?: unknown } }; errors?: unknown };
    if (errors !== undefined) return 'unexpected';
    if (operation === 'me') return data?.me?.id === userId ? 'ok' : 'misattributed';
    const notes = data?.notes;
    return Array.isArray(notes) && notes.length === 1 && notes[0]?.authorId === userId && notes[0]?.text === `note of ${userId}` ? 'ok' : 'misattributed';
  }
  // Not signed in: never any guarded data.
  if (answer.status === 200) {
    if (transport === 'graphql' && credential.kind === 'none') {
      // No credential: the contract's partial answer (the guarded field nulled, UNAUTHENTICATED at its path).
      const { data, errors } = body as { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: unknown } }> };
      const nulled = data === null || (data !== undefined && Object.values(data).every((value) => value === null));
      return nulled && errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? 'ok' : 'let-in';
    }
    return 'let-in';
  }
  if (answer.status !== 401) return 'unexpected';
  const challenge = String(answer.headers['www-authenticate'] ?? '');
  if (credential.kind === 'none' ? challenge !== 'Bearer' : !challenge.startsWith('Bearer error="invalid_token"')) return 'unexpected';
  if (transport === 'trpc') {
    const list = Array.isArray(body) ? body : [body];
    return list.every((item) => (item as { error?: { data?: { code?: unknown } } }).error?.data?.code === 'UNAUTHORIZED') ? 'ok' : 'let-in';
  }
  const { data, errors } = body as { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> };
  return (data === undefined || data === null) && errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? 'ok' : 'let-in';
}

function newTally(): Tally {
  return { sent: 0, statuses: {}, byKind: {}, misattributed: 0, letIn: 0, lateAccepts: 0, unexpected: 0, samples: [], histogram: createHistogram() };
}

/** Drives one server with `CONCURRENCY` keep-alive connections until `deadline` or `maxRequests`. */
async function drive(transport: Transport, url: string, deadline: number, maxRequests: number, seed: number, tally: Tally, sequence?: Credential[]): Promise<void> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const random = prng(seed);
  const total = pool.reduce((sum, entry) => sum + entry.weight, 0);
  let next = 0;
  const pick = (): Credential => {
    if (sequence) return sequence[next++ % sequence.length] as Credential;
    let r = random() * total;
    for (const entry of pool) {
      if ((r -= entry.weight) < 0) return entry.items[Math.floor(random() * entry.items.length)] as Credential;
    }
    return valid[0] as Credential;
  };
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline && tally.sent < maxRequests) {
      const credential = pick();
      const roll = random();
      const operation: Operation = roll < 0.1 ? 'me' : transport === 'trpc' && roll < 0.15 ? 'batch' : 'identity';
      const { method, path, headers, body } = request(transport, base, operation, credential);
      tally.sent += 1;
      const sentAt = Date.now();
      const started = process.hrtime.bigint();
      let answer: Answer;
      try {
        answer = await send(agent, base, method, path, headers, body);
      } catch (error) {
        tally.unexpected += 1;
        if (tally.samples.length < 10) tally.samples.push(`${transport} ${credential.kind} ${operation}: ${String(error)}`);
        continue;
      }
      tally.histogram.record(Math.max(1, Number((process.hrtime.bigint() - started) / 1000n)));
      tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
      const kind = (tally.byKind[credential.kind] ??= {});
      kind[answer.status] = (kind[answer.status] ?? 0) + 1;
      const verdict = judge(transport, operation, credential, answer, sentAt);
      if (credential.kind === 'expiring' && answer.status === 200 && sentAt > (credential.validUntil as number) + 2000) tally.lateAccepts += 1;
      if (verdict === 'ok') continue;
      if (verdict === 'misattributed') tally.misattributed += 1;
      else if (verdict === 'let-in') tally.letIn += 1;
      else tally.unexpected += 1;
      if (tally.samples.length < 10) tally.samples.push(`${transport} ${credential.kind} ${operation} → ${verdict}: ${answer.status} ${answer.body.slice(0, 200)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    agent.destroy();
  }
}

describe(`sustained load: ${SECONDS} s, ${USERS} users, ${CONCURRENCY} connections per server, both servers at once`, () => {
  it('every identity is the token’s own, every status the contract’s, nothing lost, memory flat', async () => {
    const trpc = children.trpc as Child;
    const graphql = children.graphql as Child;
    const started = { trpc: await memory(trpc, true), graphql: await memory(graphql, true) };
    const loadStarted = Date.now();

    // Warm-up: each user writes one note on the GraphQL server (the identity `notes` echoes), then every
    // valid token is presented once to each server, then mixed traffic.
    const firstSessions = valid.filter((_, i) => i % 2 === 0);
    const writes = newTally();
    await Promise.all(
      firstSessions.map(async (credential, i) => {
        await new Promise((resolve) => setTimeout(resolve, i));
        const answer = await fetch(graphql.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${credential.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'mutation($text: String!) { createNote(text: $text) { authorId } }', variables: { text: `note of ${credential.userId}` } }),
        });
        const body = (await answer.json()) as { data?: { createNote?: { authorId?: string } } };
        if (answer.status !== 200 || body.data?.createNote?.authorId !== credential.userId) writes.misattributed += 1;
      }),
    );
    expect(writes.misattributed).toBe(0);
    const warm = { trpc: newTally(), graphql: newTally() };
    const warmDeadline = Date.now() + WARMUP_SECONDS * 1000;
    await Promise.all([
      drive('trpc', trpc.url, warmDeadline, valid.length, 1, warm.trpc, valid),
      drive('graphql', graphql.url, warmDeadline, valid.length, 2, warm.graphql, valid),
    ]);
    await Promise.all([drive('trpc', trpc.url, warmDeadline, MAX_REQUESTS, 3, warm.trpc), drive('graphql', graphql.url, warmDeadline, MAX_REQUESTS, 4, warm.graphql)]);
    const afterWarmup = { trpc: await memory(trpc, true), graphql: await memory(graphql, true) };

    // The measured run.
    const tallies = { trpc: newTally(), graphql: newTally() };
    const samples: Record<Transport, Memory[]> = { trpc: [], graphql: [] };
    const runStarted = Date.now();
    const deadline = runStarted + SECONDS * 1000;
    const sampler = setInterval(() => {
      void memory(trpc, false).then((m) => samples.trpc.push(m), () => undefined);
      void memory(graphql, false).then((m) => samples.graphql.push(m), () => undefined);
    }, 10_000);
    try {
      await Promise.all([drive('trpc', trpc.url, deadline, MAX_REQUESTS, 5, tallies.trpc), drive('graphql', graphql.url, deadline, MAX_REQUESTS, 6, tallies.graphql)]);
    } finally {
      clearInterval(sampler);
    }
    const elapsed = (Date.now() - runStarted) / 1000;
    const ended = { trpc: await memory(trpc, true), graphql: await memory(graphql, true) };
    const logs = {
      trpc: await trpc.ask<{ lines: number; byStatus: Record<string, number>; credentialLike: number }>({ type: 'log' }, 'log'),
      graphql: await graphql.ask<{ lines: number; byStatus: Record<string, number>; credentialLike: number }>({ type: 'log' }, 'log'),
    };

    const rows = (['trpc', 'graphql'] as const).map((transport) => {
      const t = tallies[transport];
      const peakRss = Math.max(...samples[transport].map((m) => m.rss), ended[transport].rss);
      return {
        server: transport,
        requests: t.sent,
        'req/s': Math.round(t.sent / elapsed),
        'p50 ms': (t.histogram.percentile(50) / 1000).toFixed(1),
        'p99 ms': (t.histogram.percentile(99) / 1000).toFixed(1),
        'RSS start': mb(started[transport].rss),
        'RSS after warm-up': mb(afterWarmup[transport].rss),
        'RSS peak': mb(peakRss),
        'RSS end': mb(ended[transport].rss),
        'heap after GC warm → end': `${mb(afterWarmup[transport].heapUsed)} → ${mb(ended[transport].heapUsed)}`,
        statuses: JSON.stringify(t.statuses),
        misattributed: t.misattributed,
        'let in': t.letIn,
        unexpected: t.unexpected,
      };
    });
    console.log(`\nsustained load: ${elapsed.toFixed(0)} s measured after ${WARMUP_SECONDS} s warm-up, ${USERS} users, ${CONCURRENCY} connections per server, Node ${process.version}`);
    console.table(rows);
    for (const transport of ['trpc', 'graphql'] as const) {
      console.log(`${transport} by credential kind: ${JSON.stringify(tallies[transport].byKind)}`);
      console.log(`${transport} access log: ${JSON.stringify(logs[transport])}`);
      if (tallies[transport].samples.length > 0) console.log(`${transport} samples:\n${tallies[transport].samples.join('\n')}`);
    }

    for (const transport of ['trpc', 'graphql'] as const) {
      const t = tallies[transport];
      const w = warm[transport];
      expect(t.sent, transport).toBeGreaterThan(1000);
      expect({ misattributed: t.misattributed + w.misattributed, letIn: t.letIn + w.letIn, lateAccepts: t.lateAccepts + w.lateAccepts, unexpected: t.unexpected + w.unexpected }, `${transport}: ${t.samples.concat(w.samples).join(' | ')}`).toEqual({
        misattributed: 0,
        letIn: 0,
        lateAccepts: 0,
        unexpected: 0,
      });
      expect(Object.keys(t.statuses).every((status) => status === '200' || status === '401'), JSON.stringify(t.statuses)).toBe(true);
      // Nothing lost: the server logged exactly the requests it was sent (the writes on GraphQL included), and no credential.
      expect(logs[transport].lines, transport).toBe(t.sent + w.sent + (transport === 'graphql' ? firstSessions.length : 0));
      expect(logs[transport].credentialLike, transport).toBe(0);
      // Memory flat after warm-up: the live heap after a full GC grows by less than 16 MB over the run.
      expect(ended[transport].heapUsed - afterWarmup[transport].heapUsed, transport).toBeLessThan(16 * 2 ** 20);
    }
    // Keys are fetched once per server process; the forged tokens' unknown kid may trigger at most one
    // refetch per 10 s cooldown per process, never one per request.
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    console.log(`JWKS fetches: ${api.count('jwks')} in ${loadSeconds.toFixed(0)} s of load (forged tokens carry an unknown kid)`);
    expect(api.count('jwks')).toBeGreaterThanOrEqual(2);
    expect(api.count('jwks')).toBeLessThanOrEqual(2 * (1 + Math.ceil(loadSeconds / 10)));
  }, (SECONDS + WARMUP_SECONDS + 120) * 1000);
});
