/**
 * The runtime smoke suite: the core, the tRPC fetch adapter, GraphQL Yoga and the client helpers, with
 * real tokens from the test issuer, verified networklessly (`jwtKey`). Web-standard APIs only (no
 * `process`, no `Buffer`, no `node:` imports), so the very same code runs on Node, Bun, Deno and
 * Cloudflare's workerd. Nothing listens on a port: requests go straight to the fetch handlers.
 *
 * `scripts/matrix` compiles it against the packed package (test/smoke/tsconfig.json: no Node types)
 * and runs `cli.ts` on each runtime and `worker.ts` inside a Worker.
 */
import {
  checkRequirement,
  createClerkAuth,
  ForbiddenError,
  UnauthenticatedError,
  type AuthenticateResult,
  type ClerkAuth,
} from 'clerk-api-auth';
import { clerkAuthHeaders, createClerkFetch } from 'clerk-api-auth/client';
import {
  clerkDirectiveTransformer,
  clerkDirectiveTypeDefs,
  createClerkGraphQLContext,
  useClerk,
  type ClerkGraphQLContext,
} from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { graphql } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';

/** The outcome of one smoke check. */
export interface SmokeCheck {
  name: string;
  ok: boolean;
  error?: string;
}

/** The outcome of the whole suite, plus what it ran on. */
export interface SmokeReport {
  runtime: string;
  checks: SmokeCheck[];
  passed: number;
  failed: number;
}

class SmokeFailure extends Error {}

function fail(message: string): never {
  throw new SmokeFailure(message);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

function includes(haystack: string | null | undefined, needle: string, what: string): void {
  if (haystack == null || !haystack.includes(needle)) fail(`${what}: expected to contain ${JSON.stringify(needle)}, got ${JSON.stringify(haystack)}`);
}

/** The user id of a result that must be a signed-in session. */
function sessionUser(result: AuthenticateResult): string {
  if (result.auth.tokenType !== 'session_token' || !result.auth.isAuthenticated) {
    fail(`expected a signed-in session, got ${result.auth.tokenType} signed out (${String(result.reason)})`);
  }
  return result.auth.userId;
}

const ORIGIN = 'http://smoke.test';
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Which runtime this is, from web-visible globals only. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } }; process?: { versions?: { node?: string } } };
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (g.process?.versions?.node !== undefined) return `node ${g.process.versions.node}`;
  return typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent;
}

interface Fixture {
  issuer: TestIssuer;
  clerkAuth: ClerkAuth;
}

// ---------------------------------------------------------------------------------------------------
// tRPC: the lines a user writes, on the fetch adapter.

function createTrpcApp(clerkAuth: ClerkAuth) {
  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ isDev: false });
  const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
  const router = t.router({
    health: publicProcedure.query(() => 'ok'),
    whoami: protectedProcedure.query(({ ctx }) => ({ userId: ctx.auth.userId, orgRole: ctx.auth.orgRole ?? null })),
    adminStats: protectedProcedure.use(authorize({ role: 'org:admin' })).query(() => ({ notes: 3 })),
    createNote: protectedProcedure.meta({ auth: { permission: 'org:notes:create' } }).mutation(({ ctx }) => ({ by: ctx.auth.userId })),
    machinePing: machineProcedure.query(({ ctx }) => ({ machineId: ctx.auth.tokenType === 'm2m_token' ? ctx.auth.machineId : null })),
  });
  const createContext = createClerkContext(clerkAuth);
  return (req: Request): Promise<Response> => fetchRequestHandler({ endpoint: '/trpc', req, router, createContext });
}

async function trpcJson(handler: (req: Request) => Promise<Response>, path: string, init: RequestInit = {}) {
  const response = await handler(new Request(`${ORIGIN}/trpc/${path}`, init));
  const body = (await response.json()) as { result?: { data: unknown }; error?: { data?: { code?: string } } };
  return { status: response.status, headers: response.headers, body };
}

// ---------------------------------------------------------------------------------------------------
// GraphQL: Yoga with the directives, and the transformer on a plain graphql() call.

const typeDefs = /* GraphQL */ `
  type Note @auth {
    id: ID!
    text: String!
  }
  type Query {
    health: String!
    me: String @auth
    notes: [Note!]!
    adminStats: Int @hasRole(role: "org:admin")
  }
  type Mutation {
    createNote(text: String!): Note! @hasPermission(permission: "org:notes:create")
  }
`;

function userIdOf(ctx: ClerkGraphQLContext): string | null {
  return ctx.auth.tokenType === 'session_token' && ctx.auth.isAuthenticated ? ctx.auth.userId : null;
}

function createSmokeSchema() {
  return createSchema<ClerkGraphQLContext>({
    typeDefs: [clerkDirectiveTypeDefs, typeDefs],
    resolvers: {
      Query: {
        health: () => 'ok',
        me: (_source, _args, ctx) => userIdOf(ctx),
        notes: () => [{ id: 'n1', text: 'first' }],
        adminStats: () => 3,
      },
      Mutation: {
        createNote: (_source, args: { text: string }) => ({ id: 'n2', text: args.text }),
      },
    },
  });
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }>;
}

async function yogaPost(yoga: { fetch: (request: Request) => Promise<Response> | Response }, query: string, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token === undefined ? {} : bearer(token)) };
  const response = await yoga.fetch(new Request(`${ORIGIN}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) }));
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLBody };
}

const codesOf = (body: GraphQLBody): Array<string | undefined> => (body.errors ?? []).map((error) => error.extensions?.code);

// ---------------------------------------------------------------------------------------------------
// The checks.

type Check = [name: string, run: (fixture: Fixture) => Promise<void>];

const checks: Check[] = [
  [
    'core: a session token verifies networklessly (jwtKey), any Bearer case',
    async ({ issuer, clerkAuth }) => {
      const token = await issuer.sessionToken({ userId: 'user_smoke' });
      equal(sessionUser(await clerkAuth.authenticate(new Request(ORIGIN, { headers: bearer(token) }))), 'user_smoke', 'userId from a Request');
      equal(sessionUser(await clerkAuth.authenticate(new Request(ORIGIN, { headers: { authorization: `bearer ${token}` } }))), 'user_smoke', 'lower-case scheme');
      equal(sessionUser(await clerkAuth.authenticate(token)), 'user_smoke', 'bare token');
    },
  ],
  [
    'core: expired, foreign and missing tokens are refused with a reason, never thrown',
    async ({ issuer, clerkAuth }) => {
      const expired = await clerkAuth.authenticate(await issuer.sessionToken({ expiresInSeconds: -120 }));
      equal(expired.reason, 'token-expired', 'expired token');
      const stranger = await createTestIssuer();
      equal((await clerkAuth.authenticate(await stranger.sessionToken())).reason, 'token-invalid-signature', 'token of another key');
      const missing = await clerkAuth.authenticate(new Request(ORIGIN));
      equal([missing.auth.isAuthenticated, missing.reason], [false, 'token-missing'], 'no token');
      const check = checkRequirement(expired, {});
      if (check.ok || !(check.error instanceof UnauthenticatedError)) fail('an expired token must fail with UnauthenticatedError');
      equal(check.error.status, 401, 'status');
      includes(check.error.wwwAuthenticate, 'invalid_token', 'WWW-Authenticate');
    },
  ],
  [
    'core: roles and permissions from session claims (checkRequirement)',
    async ({ issuer, clerkAuth }) => {
      const admin = await clerkAuth.authenticate(await issuer.sessionToken({ org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } }));
      const member = await clerkAuth.authenticate(await issuer.sessionToken({ org: { id: 'org_1', role: 'member' } }));
      equal(checkRequirement(admin, { role: 'org:admin' }).ok, true, 'admin has org:admin');
      equal(checkRequirement(admin, { permission: 'org:notes:create' }).ok, true, 'admin has the permission');
      const denied = checkRequirement(member, { role: 'org:admin' });
      if (denied.ok || !(denied.error instanceof ForbiddenError)) fail('a member must be forbidden');
      equal([denied.error.status, denied.error.code], [403, 'FORBIDDEN'], 'forbidden error');
    },
  ],
  [
    'core: M2M and OAuth JWTs only where accepted',
    async ({ issuer, clerkAuth }) => {
      const m2m = await issuer.m2mToken({ machineId: 'mch_smoke', scopes: ['mch_api'] });
      const accepted = await clerkAuth.authenticate(m2m, { acceptsToken: 'm2m_token' });
      if (accepted.auth.tokenType !== 'm2m_token' || !accepted.auth.isAuthenticated) fail(`m2m token refused (${String(accepted.reason)})`);
      equal([accepted.auth.machineId, accepted.auth.scopes], ['mch_smoke', ['mch_api']], 'm2m auth');
      equal((await clerkAuth.authenticate(m2m)).auth.isAuthenticated, false, 'm2m token where only sessions are accepted');
      const oauth = await clerkAuth.authenticate(await issuer.oauthToken({ userId: 'user_o', clientId: 'client_1' }), { acceptsToken: 'oauth_token' });
      equal(oauth.auth.tokenType === 'oauth_token' && oauth.auth.isAuthenticated ? oauth.auth.userId : null, 'user_o', 'oauth userId');
    },
  ],
  [
    'core: a 4096-bit jwtKey verifies',
    async () => {
      const big = await createTestIssuer({ keySize: 4096 });
      const clerkAuth = createClerkAuth({ jwtKey: big.jwtKey, env: {} });
      equal(sessionUser(await clerkAuth.authenticate(await big.sessionToken({ userId: 'user_4096' }))), 'user_4096', 'userId');
    },
  ],
  [
    'trpc: fetch adapter — public, protected (401 + WWW-Authenticate), role (403), permission, machine',
    async ({ issuer, clerkAuth }) => {
      const handler = createTrpcApp(clerkAuth);
      const alice = await issuer.sessionToken({ userId: 'user_alice' });
      const admin = await issuer.sessionToken({ userId: 'user_admin', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } });

      equal((await trpcJson(handler, 'health')).body.result?.data, 'ok', 'public query');
      const whoami = await trpcJson(handler, 'whoami', { headers: bearer(alice) });
      equal([whoami.status, whoami.body.result?.data], [200, { userId: 'user_alice', orgRole: null }], 'protected query with a token');

      const anonymous = await trpcJson(handler, 'whoami');
      equal([anonymous.status, anonymous.body.error?.data?.code], [401, 'UNAUTHORIZED'], 'protected query without a token');
      includes(anonymous.headers.get('www-authenticate'), 'Bearer', 'WWW-Authenticate without a token');

      const expired = await trpcJson(handler, 'whoami', { headers: bearer(await issuer.sessionToken({ expiresInSeconds: -120 })) });
      equal(expired.status, 401, 'expired token');
      includes(expired.headers.get('www-authenticate'), 'invalid_token', 'WWW-Authenticate for an expired token');

      equal((await trpcJson(handler, 'adminStats', { headers: bearer(alice) })).status, 403, 'admin procedure, no role');
      equal((await trpcJson(handler, 'adminStats', { headers: bearer(admin) })).body.result?.data, { notes: 3 }, 'admin procedure, admin');
      const create = (token: string) => trpcJson(handler, 'createNote', { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{}' });
      equal((await create(alice)).status, 403, 'mutation without the permission');
      equal((await create(admin)).body.result?.data, { by: 'user_admin' }, 'mutation with the permission');

      const machine = await trpcJson(handler, 'machinePing', { headers: bearer(await issuer.m2mToken({ machineId: 'mch_smoke' })) });
      equal(machine.body.result?.data, { machineId: 'mch_smoke' }, 'machine procedure, m2m token');
      equal((await trpcJson(handler, 'machinePing', { headers: bearer(alice) })).status, 401, 'machine procedure, session token');
    },
  ],
  [
    'trpc: one batch mixing public and protected calls is answered per call',
    async ({ clerkAuth }) => {
      const handler = createTrpcApp(clerkAuth);
      const response = await handler(new Request(`${ORIGIN}/trpc/health,whoami?batch=1&input=${encodeURIComponent('{}')}`));
      const body = (await response.json()) as Array<{ result?: { data: unknown }; error?: { data?: { code?: string } } }>;
      equal([body[0]?.result?.data, body[1]?.error?.data?.code], ['ok', 'UNAUTHORIZED'], 'batch results');
    },
  ],
  [
    'graphql: Yoga + useClerk — @auth, @hasRole, @hasPermission, a rejected token is a 401',
    async ({ issuer, clerkAuth }) => {
      const yoga = createYoga({ schema: createSmokeSchema(), plugins: [useClerk(clerkAuth)], logging: false });
      const alice = await issuer.sessionToken({ userId: 'user_alice', org: { id: 'org_1', role: 'member' } });
      const admin = await issuer.sessionToken({ userId: 'user_admin', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } });

      const signedIn = await yogaPost(yoga, '{ health me notes { id text } }', alice);
      equal([signedIn.status, signedIn.body.data, signedIn.body.errors], [200, { health: 'ok', me: 'user_alice', notes: [{ id: 'n1', text: 'first' }] }, undefined], 'signed-in query');

      const anonymous = await yogaPost(yoga, '{ health me }');
      equal([anonymous.body.data, codesOf(anonymous.body)], [{ health: 'ok', me: null }, ['UNAUTHENTICATED']], 'anonymous query: guarded field null, one error');

      const rejected = await yogaPost(yoga, '{ health me }', await issuer.sessionToken({ expiresInSeconds: -120 }));
      equal([rejected.status, codesOf(rejected.body)], [401, ['UNAUTHENTICATED']], 'expired token');
      includes(rejected.headers.get('www-authenticate'), 'invalid_token', 'WWW-Authenticate');

      const member = await yogaPost(yoga, '{ adminStats }', alice);
      equal([member.body.data, codesOf(member.body)], [{ adminStats: null }, ['FORBIDDEN']], '@hasRole, member');
      equal((await yogaPost(yoga, '{ adminStats }', admin)).body.data, { adminStats: 3 }, '@hasRole, admin');

      const mutation = 'mutation { createNote(text: "hi") { id text } }';
      const refused = await yogaPost(yoga, mutation, alice);
      equal([refused.status, codesOf(refused.body)], [403, ['FORBIDDEN']], '@hasPermission mutation without the permission');
      equal((await yogaPost(yoga, mutation, admin)).body.data, { createNote: { id: 'n2', text: 'hi' } }, '@hasPermission mutation with it');
    },
  ],
  [
    'graphql: clerkDirectiveTransformer on a plain graphql() call',
    async ({ issuer, clerkAuth }) => {
      const schema = clerkDirectiveTransformer(createSmokeSchema());
      const context = createClerkGraphQLContext(clerkAuth);
      const token = await issuer.sessionToken({ userId: 'user_t' });
      const allowed = await graphql({ schema, source: '{ me }', contextValue: await context(new Request(ORIGIN, { headers: bearer(token) })) });
      equal([allowed.data, allowed.errors], [{ me: 'user_t' }, undefined], 'signed in');
      const denied = await graphql({ schema, source: '{ health me }', contextValue: await context(new Request(ORIGIN)) });
      equal([denied.data, denied.errors?.map((error) => error.extensions['code'])], [{ health: 'ok', me: null }, ['UNAUTHENTICATED']], 'anonymous');
    },
  ],
  [
    'client: createClerkFetch retries once with a fresh token after invalid_token',
    async ({ issuer, clerkAuth }) => {
      const handler = createTrpcApp(clerkAuth);
      const stale = await issuer.sessionToken({ userId: 'user_c', expiresInSeconds: -120 });
      const fresh = await issuer.sessionToken({ userId: 'user_c' });
      const asked: Array<boolean> = [];
      const clerkFetch = createClerkFetch({
        getToken: async (options) => {
          asked.push(options?.skipCache === true);
          return options?.skipCache === true ? fresh : stale;
        },
        fetch: (input, init) => handler(new Request(input, init)),
      });
      const response = await clerkFetch(`${ORIGIN}/trpc/whoami`);
      equal([response.status, asked], [200, [false, true]], 'one retry with skipCache');
      equal(((await response.json()) as { result: { data: unknown } }).result.data, { userId: 'user_c', orgRole: null }, 'retried call');
      equal(await clerkAuthHeaders(async () => fresh)(), bearer(fresh), 'clerkAuthHeaders');
    },
  ],
];

/** Runs every check and reports each one; never throws. While it runs, `fetch` refuses every call. */
export async function runSmoke(): Promise<SmokeReport> {
  const attempts: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    attempts.push(url);
    throw new TypeError(`smoke: network access refused (${url})`);
  };
  const results: SmokeCheck[] = [];
  try {
    const issuer = await createTestIssuer();
    // `env: {}`: nothing from the environment, which a Worker has no `process.env` for anyway.
    const fixture: Fixture = { issuer, clerkAuth: createClerkAuth({ jwtKey: issuer.jwtKey, env: {} }) };
    for (const [name, run] of checks) {
      try {
        await run(fixture);
        results.push({ name, ok: true });
      } catch (error) {
        const message = error instanceof SmokeFailure ? error.message : error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
        results.push({ name, ok: false, error: message });
      }
    }
  } catch (error) {
    results.push({ name: 'setup: test issuer and createClerkAuth', ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  } finally {
    globalThis.fetch = realFetch;
  }
  results.push(
    attempts.length === 0
      ? { name: 'networkless: nothing called fetch()', ok: true }
      : { name: 'networkless: nothing called fetch()', ok: false, error: `fetch() was called for ${attempts.join(', ')}` },
  );
  const passed = results.filter((result) => result.ok).length;
  return { runtime: runtimeName(), checks: results, passed, failed: results.length - passed };
}

/** The report as text, one line per check, closing with `N passed, N failed`. */
export function formatSmoke(report: SmokeReport): string {
  const lines = [`# smoke on ${report.runtime}`];
  for (const check of report.checks) {
    lines.push(`${check.ok ? 'ok' : 'not ok'} - ${check.name}`);
    if (check.error !== undefined) lines.push(...check.error.split('\n').map((line) => `    ${line}`));
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines.join('\n');
}
