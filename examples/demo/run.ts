/**
 * `npm run demo`: the reference app's two servers, started with no configuration and no internet,
 * and a scripted walk through what clerk-api-auth does with each kind of caller: signed out, signed
 * in, forbidden, payment required (402), a reverification prompt answered by a fresh token, expired.
 *
 * The Clerk side is `clerk-api-auth/testing`: a local key pair that signs real Clerk-format tokens,
 * and a loopback stand-in for Clerk's Backend API (JWKS and users). The servers are configured the
 * way a production deployment is — through CLERK_* environment variables — with that issuer's keys.
 * Every step states what it expects; the demo exits 1 if any answer differs. No token is printed.
 */
import { isReverificationHint } from '@clerk/shared/authorization-errors';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { clerkReverification, createClerkFetch } from 'clerk-api-auth/client';
import { createTestIssuer, startFakeClerkApi, type SessionTokenOptions } from 'clerk-api-auth/testing';
import { startGraphQLServer } from '../graphql-yoga/server.js';
import { DEV_USERS } from '../shared/clerk.js';
import { startTrpcServer, type AppRouter } from '../trpc/server.js';

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const green = paint(32);
const red = paint(31);

// ── The offline Clerk instance ─────────────────────────────────────────────────────────────────
const issuer = await createTestIssuer();
const api = await startFakeClerkApi({ issuer, users: DEV_USERS });
const env: NodeJS.ProcessEnv = {
  CLERK_SECRET_KEY: issuer.secretKey, // for ctx.clerk (the Backend API stand-in)
  CLERK_JWT_KEY: issuer.jwtKey, // networkless verification
  CLERK_API_URL: api.apiUrl,
  CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
};
const serverLog: string[] = [];
const log = (line: string): void => {
  serverLog.push(line);
};
const trpc = await startTrpcServer({ port: 0, env, log });
const graphql = await startGraphQLServer({ port: 0, env, log });

// ── Callers ──────────────────────────────────────────────────────────────────────────────────────
const ALICE: SessionTokenOptions = { userId: 'user_alice', org: { id: 'org_acme', role: 'member' } };
const BOB: SessionTokenOptions = { userId: 'user_bob', org: { id: 'org_acme', role: 'admin', permissions: ['org:notes:create'] } };

/**
 * A signed-in browser tab, as Clerk's `getToken` behaves: it answers from its cache, and mints a
 * fresh token when asked with `{ skipCache: true }`. `expireCachedToken()` stands for a minute
 * passing (Clerk session tokens live 60 seconds). The user signed in half an hour ago
 * (`fva`: first factor 30 minutes old) until `reverify()`, which stands for them verifying again
 * in Clerk's prompt: tokens minted afterwards carry a fresh verification age.
 */
function signedIn(claims: SessionTokenOptions) {
  let cached: string | undefined;
  let refreshes = 0;
  let factorVerificationAge: [number, number] = [30, -1];
  const mint = (expiresInSeconds: number) => issuer.sessionToken({ ...claims, factorVerificationAge, expiresInSeconds });
  return {
    /** How many times a fresh token was asked for with `skipCache`. */
    get refreshes(): number {
      return refreshes;
    },
    async getToken(options?: { skipCache?: boolean }): Promise<string> {
      if (options?.skipCache === true) refreshes += 1;
      if (options?.skipCache === true || cached === undefined) cached = await mint(60);
      return cached;
    },
    async expireCachedToken(): Promise<void> {
      cached = await mint(-60);
    },
    reverify(): void {
      factorVerificationAge = [0, -1];
    },
  };
}

/**
 * What Clerk's `useReverification` hook does with a fetcher (it needs React and a Clerk frontend,
 * so the demo plays it): call it; when the result is Clerk's reverification hint, show Clerk's
 * verification prompt at the hint's level, and once the user has verified, call it once more.
 */
function useReverificationLikeClerk<T>(fetcher: () => Promise<T>, prompt: (level: string) => void): () => Promise<unknown> {
  return async () => {
    const result: unknown = await fetcher();
    if (!isReverificationHint(result)) return result;
    const wanted = result.clerk_error.metadata?.reverification;
    prompt(typeof wanted === 'string' ? wanted : JSON.stringify(wanted));
    return fetcher();
  };
}

// ── Printing ─────────────────────────────────────────────────────────────────────────────────────
let step = 0;
let failures = 0;
let logShown = 0;

function summary(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 110 ? `${flat.slice(0, 107)}...` : flat;
}

function heading(text: string): void {
  console.log(`\n${bold(text)}`);
}

function title(text: string): void {
  step += 1;
  console.log(`\n${bold(`${String(step).padStart(2)}. ${text}`)}`);
}

function line(text: string): void {
  console.log(`    ${text}`);
}

/** One answer, checked against what the step expects. */
function answer(status: number, expected: number, detail: string): void {
  const ok = status === expected;
  if (!ok) failures += 1;
  const mark = ok ? green('✓') : red(`✗ expected ${expected}`);
  line(`${mark} ${bold(String(status))} ${detail}`);
}

/** The access-log lines the servers wrote since the last step. */
function showServerLog(): void {
  for (const entry of serverLog.slice(logShown)) line(dim(`server log: ${entry}`));
  logShown = serverLog.length;
}

/** What a tRPC or GraphQL response says, in one line: the code and challenge of an error, else the data. */
function describe(status: number, headers: Headers, body: string): string {
  type Envelope = {
    result?: unknown;
    error?: { data?: { code?: string; clerk_error?: { reason?: string } } };
    errors?: Array<{ extensions?: { code?: string } }>;
    data?: unknown;
  };
  let parsed: Envelope | undefined;
  try {
    const json = JSON.parse(body) as Envelope | Envelope[];
    parsed = Array.isArray(json) ? json[0] : json; // a tRPC batch: one call here
  } catch {
    parsed = undefined;
  }
  if (status >= 400) {
    const code = parsed?.error?.data?.code ?? parsed?.errors?.[0]?.extensions?.code ?? '';
    const challenge = headers.get('www-authenticate');
    const hint = parsed?.error?.data?.clerk_error?.reason;
    return [code, hint ? `clerk_error: ${hint}` : '', challenge ? `WWW-Authenticate: ${challenge}` : ''].filter(Boolean).join(' · ');
  }
  if (parsed && 'result' in parsed) return summary(JSON.stringify(parsed.result));
  if (parsed && 'data' in parsed) {
    const errors = parsed.errors?.length ?? 0;
    return summary(`${JSON.stringify({ data: parsed.data })}${errors > 0 ? ` + ${errors} error${errors > 1 ? 's' : ''}` : ''}`);
  }
  return summary(body);
}

async function http(options: { method?: 'GET' | 'POST'; url: string; token?: string; body?: unknown; who: string; expected: number }): Promise<{ status: number; body: string }> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(options.url, { method, headers, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
  const body = await response.text();
  line(`${method} ${new URL(options.url).pathname}  ${dim(`(${options.who})`)}`);
  answer(response.status, options.expected, describe(response.status, response.headers, body));
  showServerLog();
  return { status: response.status, body };
}

/** A fetch that prints each attempt and checks it against the statuses expected in turn: what `createClerkFetch` does is then visible. */
function tracingFetch(who: string, expected: number[]): typeof fetch {
  const pending = [...expected];
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const copy = response.clone();
    line(`${request.method} ${new URL(request.url).pathname}  ${dim(`(${who})`)}`);
    answer(response.status, pending.shift() ?? Number.NaN, describe(response.status, response.headers, await copy.text()));
    return response;
  };
}

// ── The walk ─────────────────────────────────────────────────────────────────────────────────────
console.log(bold('clerk-api-auth demo'));
console.log('Offline: a local test issuer signs real Clerk-format session and machine tokens, and a loopback');
console.log("stand-in plays Clerk's Backend API. Both servers are configured through CLERK_* variables, as in");
console.log('production. Nothing leaves this machine and no token is printed.');
console.log('');
console.log(`  tRPC     ${trpc.url}`);
console.log(`  GraphQL  ${graphql.url}`);
console.log(dim('  alice: member of org_acme, no permissions · bob: org:admin with org:notes:create'));

const alice = signedIn(ALICE);
const bob = signedIn(BOB);

heading('tRPC (fetch adapter, clerkProcedures)');

title('Signed out: a guarded procedure asks who you are');
await http({ url: `${trpc.url}/whoami`, who: 'no token', expected: 401 });

title('Signed in: ctx.auth is Clerk’s auth object');
await http({ url: `${trpc.url}/whoami`, token: await alice.getToken(), who: 'alice', expected: 200 });

title('Signed in, and ctx.clerk calls the Backend API (here, its loopback stand-in)');
await http({ url: `${trpc.url}/me`, token: await alice.getToken(), who: 'alice', expected: 200 });

title('Forbidden: signed in, but admin.stats needs role org:admin');
await http({ url: `${trpc.url}/admin.stats`, token: await alice.getToken(), who: 'alice', expected: 403 });

title('Allowed: bob has org:admin and org:notes:create');
await http({ method: 'POST', url: `${trpc.url}/notes.create`, token: await bob.getToken(), body: { text: 'Ship the demo' }, who: 'bob', expected: 200 });
await http({ url: `${trpc.url}/admin.stats`, token: await bob.getToken(), who: 'bob', expected: 200 });

title('Expired: alice’s cached token is a minute old; the client refreshes it and retries once');
line(dim('createTRPCClient({ links: [httpBatchLink({ url, fetch: createClerkFetch({ getToken }) })] })'));
await alice.expireCachedToken();
const trpcClient = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: trpc.url, fetch: createClerkFetch({ getToken: alice.getToken, fetch: tracingFetch('alice', [401, 200]) }) })],
});
try {
  const me = await trpcClient.whoami.query();
  line(`${green('✓')} whoami.query() resolved: userId ${me.userId} ${dim(`(getToken({ skipCache: true }) was called ${alice.refreshes}×)`)}`);
  if (alice.refreshes !== 1) failures += 1;
} catch (error) {
  failures += 1;
  line(red(`✗ whoami.query() failed: ${error instanceof TRPCClientError ? error.message : String(error)}`));
}
showServerLog();

title('Payment required: reports.export needs the Clerk Billing feature "reports", which alice’s plan lacks');
await http({ url: `${trpc.url}/reports.export`, token: await alice.getToken(), who: 'alice', expected: 402 });

title('Reverification: account.rotateKey needs a recent verification; Clerk’s useReverification prompts, then retries');
line(dim('useReverification(reverification.fetcher(() => trpc.account.rotateKey.mutate()))'));
const reverification = clerkReverification({ getToken: alice.getToken });
const rotatingClient = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: trpc.url, fetch: createClerkFetch({ getToken: reverification.getToken, fetch: tracingFetch('alice', [403, 200]) }) })],
});
const refreshesBeforeRotate = alice.refreshes;
try {
  const rotated = await useReverificationLikeClerk(
    reverification.fetcher(() => rotatingClient.account.rotateKey.mutate()),
    (level) => {
      line(`${green('✓')} Clerk's hint in error.data.clerk_error → verification prompt (${level}) → alice verifies again`);
      alice.reverify();
    },
  )();
  const fresh = alice.refreshes - refreshesBeforeRotate;
  const ok = (rotated as { rotated?: boolean }).rotated === true && fresh === 1;
  if (!ok) failures += 1;
  line(`${ok ? green('✓') : red('✗')} rotateKey resolved: ${JSON.stringify(rotated)} ${dim(`(retried with a fresh token: getToken({ skipCache: true }) ${fresh}×)`)}`);
} catch (error) {
  failures += 1;
  line(red(`✗ rotateKey failed: ${error instanceof TRPCClientError ? error.message : String(error)}`));
}
showServerLog();

title('A machine token (M2M) where a procedure asks for one');
const m2m = await issuer.m2mToken({ machineId: 'mch_reports' });
await http({ url: `${trpc.url}/machine.ping`, token: m2m, who: 'M2M token of mch_reports', expected: 200 });
line(dim('...and the same token is not a session:'));
await http({ url: `${trpc.url}/whoami`, token: m2m, who: 'M2M token of mch_reports', expected: 401 });

heading('GraphQL (Yoga, useClerk, @auth / @hasRole / @hasPermission)');
const gql = (query: string) => ({ query });

title('Signed out: a mutation behind @hasPermission is refused whole, before any resolver runs');
await http({ method: 'POST', url: graphql.url, body: gql('mutation { createNote(text: "hi") { id } }'), who: 'no token', expected: 401 });

title('Signed in: @auth fields resolve, me comes from ctx.clerk');
await http({ method: 'POST', url: graphql.url, body: gql('{ me { email } notes { text } }'), token: await bob.getToken(), who: 'bob', expected: 200 });

title('Forbidden: alice lacks org:notes:create');
await http({ method: 'POST', url: graphql.url, body: gql('mutation { createNote(text: "hi") { id } }'), token: await alice.getToken(), who: 'alice', expected: 403 });

title('Partial data: a query gets what it may see; each denied field is null with an error at its path');
const partial = await http({
  method: 'POST',
  url: graphql.url,
  body: gql('{ health me { email } adminStats { notes } }'),
  token: await alice.getToken(),
  who: 'alice',
  expected: 200,
});
const parsed = JSON.parse(partial.body) as { data?: { adminStats?: unknown }; errors?: Array<{ path?: unknown[]; extensions?: { code?: string } }> };
const denied = parsed.errors?.map((error) => `${(error.path ?? []).join('.')}: ${error.extensions?.code ?? '?'}`) ?? [];
line(`errors: ${denied.join(', ') || 'none'}`);
if (parsed.data?.adminStats !== null || denied.join() !== 'adminStats: FORBIDDEN') failures += 1;

title('Expired: a fetch-based GraphQL client with createClerkFetch refreshes and retries once');
await alice.expireCachedToken();
const refreshesBefore = alice.refreshes;
const graphqlFetch = createClerkFetch({ getToken: alice.getToken, fetch: tracingFetch('alice', [401, 200]) });
const response = await graphqlFetch(graphql.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(gql('{ me { email } }')) });
const final = (await response.json()) as { data?: { me?: { email?: string } } };
const refreshed = alice.refreshes - refreshesBefore;
line(`${response.ok && refreshed === 1 ? green('✓') : red('✗')} me.email = ${final.data?.me?.email ?? 'null'} ${dim(`(getToken({ skipCache: true }) was called ${refreshed}×)`)}`);
if (!response.ok || refreshed !== 1) failures += 1;
showServerLog();

// ── Done ─────────────────────────────────────────────────────────────────────────────────────────
await Promise.all([trpc.close(), graphql.close()]);
await api.close();

console.log('');
if (failures === 0) {
  console.log(green(bold(`All ${step} steps answered as expected.`)));
  console.log('Next: npm run example:trpc | example:graphql | example:express (each falls back to this offline issuer');
  console.log('without CLERK_* keys), then README.md for your own API.');
} else {
  console.log(red(bold(`${failures} answer(s) differed from what the demo expects.`)));
  process.exitCode = 1;
}
