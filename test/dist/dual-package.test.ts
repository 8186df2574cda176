/**
 * Dual-package safety, against the BUILT package (`dist/`): a `ClerkAuth` made by the CommonJS build
 * used with the ESM build of the GraphQL and tRPC integrations (and the reverse) must answer exactly
 * as a `ClerkAuth` of the same build does — same HTTP statuses, same error codes, same partial data.
 * The core's error classes of one build are not the other's, so nothing may recognise them with
 * `instanceof`.
 *
 * Each server loads graphql (and graphql-yoga / @trpc/server) consistently: the ESM integration with
 * the ESM builds (imported here, resolved as Vite resolves them), the CommonJS integration with the
 * CommonJS builds (`require`, as Node resolves them). graphql 16 has both and no `exports` map, and
 * refuses to mix them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esmGraphQLLibrary from 'graphql';
import * as esmYogaLibrary from 'graphql-yoga';
import * as esmTrpcLibrary from '@trpc/server';
import * as esmTrpcFetchLibrary from '@trpc/server/adapters/fetch';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { listen } from '../graphql/helpers.js';

type CoreModule = typeof import('clerk-api-auth');
type GraphQLModule = typeof import('clerk-api-auth/graphql');
type TrpcModule = typeof import('clerk-api-auth/trpc');
type GraphQLLibrary = typeof import('graphql');
type YogaLibrary = typeof import('graphql-yoga');
type TrpcLibrary = typeof import('@trpc/server');
type TrpcFetchLibrary = typeof import('@trpc/server/adapters/fetch');
type Build = 'cjs' | 'esm';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

/** Newest modification time under a directory (recursively). */
function newest(directory: string): number {
  let latest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds `dist/` (tsdown) unless it exists and is newer than every source file. */
function ensureBuilt(): void {
  const entries = ['index', 'graphql', 'trpc'].flatMap((name) => [`${name}.mjs`, `${name}.cjs`]).map((file) => join(dist, file));
  const fresh = entries.every((file) => existsSync(file)) && Math.min(...entries.map((file) => statSync(file).mtimeMs)) > newest(join(root, 'src'));
  if (!fresh) execFileSync('npx', ['tsdown', '--log-level', 'warn'], { cwd: root, stdio: 'pipe', env: { ...process.env, CLERK_TELEMETRY_DISABLED: '1' } });
}

interface Loaded {
  core: CoreModule;
  graphql: GraphQLModule;
  trpc: TrpcModule;
  /** The graphql, graphql-yoga and @trpc/server builds that go with this build's integrations. */
  graphqlLibrary: GraphQLLibrary;
  yoga: YogaLibrary;
  trpcLibrary: TrpcLibrary;
  trpcFetch: TrpcFetchLibrary;
}

const loaded = {} as Record<Build, Loaded>;
let issuer: TestIssuer;
const tokens = { member: '', expired: '', admin: '' };
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  ensureBuilt();
  const esmImport = async <T>(file: string): Promise<T> => (await import(/* @vite-ignore */ pathToFileURL(join(dist, file)).href)) as T;
  loaded.cjs = {
    core: require(join(dist, 'index.cjs')) as CoreModule,
    graphql: require(join(dist, 'graphql.cjs')) as GraphQLModule,
    trpc: require(join(dist, 'trpc.cjs')) as TrpcModule,
    graphqlLibrary: require('graphql') as GraphQLLibrary,
    yoga: require('graphql-yoga') as YogaLibrary,
    trpcLibrary: require('@trpc/server') as TrpcLibrary,
    trpcFetch: require('@trpc/server/adapters/fetch') as TrpcFetchLibrary,
  };
  loaded.esm = {
    core: await esmImport<CoreModule>('index.mjs'),
    graphql: await esmImport<GraphQLModule>('graphql.mjs'),
    trpc: await esmImport<TrpcModule>('trpc.mjs'),
    graphqlLibrary: esmGraphQLLibrary,
    yoga: esmYogaLibrary,
    trpcLibrary: esmTrpcLibrary,
    trpcFetch: esmTrpcFetchLibrary,
  };
  // The two builds really are two copies: their error classes differ.
  expect(loaded.cjs.core.ForbiddenError).not.toBe(loaded.esm.core.ForbiddenError);
  expect(loaded.cjs.graphqlLibrary.GraphQLError).not.toBe(loaded.esm.graphqlLibrary.GraphQLError);

  issuer = await createTestIssuer();
  tokens.member = await issuer.sessionToken({ userId: 'user_member', org: { id: 'org_1', role: 'member' }, expiresInSeconds: 600 });
  tokens.admin = await issuer.sessionToken({ userId: 'user_admin', org: { id: 'org_1', role: 'admin' }, expiresInSeconds: 600 });
  tokens.expired = await issuer.sessionToken({ userId: 'user_member', expiresInSeconds: -60 });
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close();
});

/** The four pairings: which build made the ClerkAuth, which build runs the integration. */
const PAIRS: Array<{ name: string; core: Build; integration: Build }> = [
  { name: 'ESM ClerkAuth + ESM integration', core: 'esm', integration: 'esm' },
  { name: 'CJS ClerkAuth + CJS integration', core: 'cjs', integration: 'cjs' },
  { name: 'CJS ClerkAuth + ESM integration', core: 'cjs', integration: 'esm' },
  { name: 'ESM ClerkAuth + CJS integration', core: 'esm', integration: 'cjs' },
];

const clerkAuthOf = (build: Build) => loaded[build].core.createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });

const TYPE_DEFS = `
  type Query { health: String secret: String @auth admin: String @hasRole(role: "org:admin") backend: String }
  type Mutation { adminOnly: Boolean @hasRole(role: "org:admin") }
`;

/** What a caller sees of one GraphQL answer, comparable across builds. */
interface Seen {
  status: number;
  codes: unknown[];
  reasons: unknown[];
  data: unknown;
  wwwAuthenticate?: string | null;
}

/** Every GraphQL case, by name: the operation and who sends it. */
const GRAPHQL_CASES: Array<[string, string, keyof typeof tokens | null]> = [
  ['no token, guarded mutation', 'mutation { adminOnly }', null],
  ['no token, guarded field in a query', '{ health secret }', null],
  ['expired token, guarded-only query', '{ secret }', 'expired'],
  ['expired token, guarded field next to a public one', '{ health secret }', 'expired'],
  ['signed in without the role, mutation', 'mutation { adminOnly }', 'member'],
  ['signed in without the role, query', '{ health admin }', 'member'],
  ['admin, query', '{ health secret admin }', 'admin'],
  // ctx.clerk without a secret key throws the core's ClerkSecretKeyRequiredError (from the ClerkAuth's build).
  ['a resolver using ctx.clerk in networkless mode', '{ health backend }', 'admin'],
];

/** What each case must answer (the same for every pairing). */
const EXPECTED_GRAPHQL: Record<string, Seen> = {
  'no token, guarded mutation': { status: 401, codes: ['UNAUTHENTICATED'], reasons: ['token-missing'], data: undefined, wwwAuthenticate: 'Bearer' },
  'no token, guarded field in a query': { status: 200, codes: ['UNAUTHENTICATED'], reasons: ['token-missing'], data: { health: 'ok', secret: null }, wwwAuthenticate: null },
  'expired token, guarded-only query': {
    status: 401,
    codes: ['UNAUTHENTICATED'],
    reasons: ['token-expired'],
    data: undefined,
    wwwAuthenticate: 'Bearer error="invalid_token", error_description="token-expired"',
  },
  'expired token, guarded field next to a public one': {
    status: 401,
    codes: ['UNAUTHENTICATED'],
    reasons: ['token-expired'],
    data: undefined,
    wwwAuthenticate: 'Bearer error="invalid_token", error_description="token-expired"',
  },
  'signed in without the role, mutation': { status: 403, codes: ['FORBIDDEN'], reasons: [undefined], data: undefined, wwwAuthenticate: 'Bearer error="insufficient_scope"' },
  'signed in without the role, query': { status: 200, codes: ['FORBIDDEN'], reasons: [undefined], data: { health: 'ok', admin: null }, wwwAuthenticate: null },
  'admin, query': { status: 200, codes: [], reasons: [], data: { health: 'ok', secret: 'SECRET', admin: 'ADMIN' }, wwwAuthenticate: null },
  'a resolver using ctx.clerk in networkless mode': { status: 200, codes: ['CLERK_SECRET_KEY_REQUIRED'], reasons: [undefined], data: { health: 'ok', backend: null }, wwwAuthenticate: null },
};

const resolvers = {
  Query: {
    health: () => 'ok',
    secret: () => 'SECRET',
    admin: () => 'ADMIN',
    backend: async (_: unknown, __: unknown, context: { clerk: { users: { getUser(id: string): Promise<unknown> } } }) => {
      await context.clerk.users.getUser('user_1');
      return 'unreachable';
    },
  },
  Mutation: { adminOnly: () => true },
};

async function serveYoga(pair: (typeof PAIRS)[number]): Promise<string> {
  const { graphql, yoga } = loaded[pair.integration];
  const server = yoga.createYoga({
    schema: yoga.createSchema({ typeDefs: [graphql.clerkDirectiveTypeDefs, TYPE_DEFS], resolvers }),
    plugins: [graphql.useClerk(clerkAuthOf(pair.core))],
    logging: false,
  });
  const served = await listen(server as unknown as Parameters<typeof listen>[0]);
  closers.push(served.close);
  return served.url;
}

async function askYoga(url: string, query: string, token: string | null): Promise<Seen> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> };
  return {
    status: response.status,
    codes: (body.errors ?? []).map((error) => error.extensions?.code),
    reasons: (body.errors ?? []).map((error) => error.extensions?.reason),
    data: body.data,
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

describe('GraphQL Yoga + useClerk over HTTP: the same answers whichever build made the ClerkAuth', () => {
  for (const pair of PAIRS) {
    it(pair.name, async () => {
      const url = await serveYoga(pair);
      const seen: Record<string, Seen> = {};
      for (const [name, query, who] of GRAPHQL_CASES) seen[name] = await askYoga(url, query, who === null ? null : tokens[who]);
      expect(seen).toEqual(EXPECTED_GRAPHQL);
    });
  }
});

describe('clerkDirectiveTransformer + createClerkGraphQLContext on a plain graphql() call: the same answers', () => {
  for (const pair of PAIRS) {
    it(pair.name, async () => {
      const { graphql, yoga, graphqlLibrary } = loaded[pair.integration];
      const schema = graphql.clerkDirectiveTransformer(yoga.createSchema({ typeDefs: [graphql.clerkDirectiveTypeDefs, TYPE_DEFS], resolvers }));
      const context = graphql.createClerkGraphQLContext(clerkAuthOf(pair.core));
      const seen: Record<string, Omit<Seen, 'wwwAuthenticate'>> = {};
      const expected: Record<string, Omit<Seen, 'wwwAuthenticate'>> = {};
      // Errors thrown by resolvers keep their code only through useClerk (Yoga); the rest is the same.
      for (const [name, query, who] of GRAPHQL_CASES.filter(([name]) => !name.includes('ctx.clerk'))) {
        const request = new Request('http://api.test/graphql', { headers: who === null ? {} : { authorization: `Bearer ${tokens[who]}` } });
        const result = await graphqlLibrary.graphql({ schema, source: query, contextValue: await context(request) });
        const errors = result.errors ?? [];
        // A rejection fails the first root field with one error carrying the HTTP answer; every
        // root field is null (`data` itself when a root field is non-null).
        const http = errors[0]?.extensions.http as { status?: number } | undefined;
        const rejected = http !== undefined;
        // (How many root fields repeat the rejection is not this test's concern: distinct values.)
        const distinct = (values: unknown[]) => (rejected ? [...new Set(values)] : values);
        seen[name] = {
          status: http?.status ?? 200,
          codes: distinct(errors.map((error) => error.extensions.code)),
          reasons: distinct(errors.map((error) => error.extensions.reason)),
          data: rejected ? Object.values(result.data ?? {}).every((value) => value === null) : result.data,
        };
        const { wwwAuthenticate: _, ...want } = EXPECTED_GRAPHQL[name] as Seen;
        expected[name] = { ...want, data: want.data === undefined ? true : want.data };
      }
      expect(seen).toEqual(expected);
    });
  }
});

describe('tRPC: createClerkContext + clerkProcedures through fetchRequestHandler, and createCaller', () => {
  function routerOf(pair: (typeof PAIRS)[number]) {
    const { trpc, trpcLibrary } = loaded[pair.integration];
    const t = trpcLibrary.initTRPC.context<import('clerk-api-auth/trpc').ClerkContext>().meta<import('clerk-api-auth/trpc').ClerkMeta>().create();
    const { protectedProcedure, authorize } = trpc.clerkProcedures(t);
    const router = t.router({
      me: protectedProcedure.query(({ ctx }) => ctx.auth.userId),
      adminOnly: protectedProcedure.use(authorize({ role: 'org:admin' })).mutation(() => true),
    });
    return { router, createContext: trpc.createClerkContext(clerkAuthOf(pair.core)), t };
  }

  const TRPC_CASES: Array<[string, 'me' | 'adminOnly', keyof typeof tokens | null, { status: number; code: string; wwwAuthenticate: string | null }]> = [
    ['no token, protected query', 'me', null, { status: 401, code: 'UNAUTHORIZED', wwwAuthenticate: 'Bearer' }],
    ['expired token, protected query', 'me', 'expired', { status: 401, code: 'UNAUTHORIZED', wwwAuthenticate: 'Bearer error="invalid_token", error_description="token-expired"' }],
    ['signed in without the role, mutation', 'adminOnly', 'member', { status: 403, code: 'FORBIDDEN', wwwAuthenticate: 'Bearer error="insufficient_scope"' }],
  ];

  for (const pair of PAIRS) {
    it(pair.name, async () => {
      const { router, createContext } = routerOf(pair);
      const { trpcFetch } = loaded[pair.integration];
      for (const [name, path, who, expected] of TRPC_CASES) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (who !== null) headers.authorization = `Bearer ${tokens[who]}`;
        const req =
          path === 'me'
            ? new Request('http://api.test/trpc/me', { headers })
            : new Request('http://api.test/trpc/adminOnly', { method: 'POST', headers, body: '{}' });
        const response = await trpcFetch.fetchRequestHandler({ endpoint: '/trpc', router, createContext, req });
        const body = (await response.json()) as { error?: { data?: { code?: string; httpStatus?: number } } };
        expect({ status: response.status, code: body.error?.data?.code, wwwAuthenticate: response.headers.get('www-authenticate') }, name).toEqual(expected);
      }
      const ok = await trpcFetch.fetchRequestHandler({
        endpoint: '/trpc',
        router,
        createContext,
        req: new Request('http://api.test/trpc/adminOnly', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin}` }, body: '{}' }),
      });
      expect(ok.status).toBe(200);

      // Server-side calls: the same codes through createCaller with a context from the other build.
      const caller = router.createCaller(await createContext({ req: new Request('http://api.test/', { headers: { authorization: `Bearer ${tokens.member}` } }), resHeaders: new Headers(), info: {} as never }));
      await expect(caller.adminOnly()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.me()).resolves.toBe('user_member');
    });
  }
});
