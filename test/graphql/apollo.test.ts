/**
 * `clerkApolloPlugin` on a real Apollo Server (`startStandaloneServer`, real loopback HTTP) with real
 * tokens from the test issuer: signed out, signed in, role, permission, an expired token (401
 * `invalid_token`, whole), partial data with null propagation, denied mutations that run nothing,
 * `WWW-Authenticate` on every 401, `extensions.http` never in a body, and graphql-request with
 * `createClerkFetch` refreshing an expired token once.
 *
 * Uses only what Apollo Server 4 and 5 share: the matrix runs this file on both. Apollo Server
 * supports graphql 16 only (its peer range), so the file is skipped on graphql 17.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, versionInfo } from 'graphql';
import { GraphQLClient, ClientError } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkApolloPlugin } from 'clerk-api-auth/apollo';
import { createClerkFetch } from 'clerk-api-auth/client';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { createResolvers, fixtureTypeDefs, newCounters, SECRET, type Counters } from './fixtures.js';
import { ADMIN, ALICE, codes, gql as post, MEMBER, WRITER, type GraphQLResponse } from './helpers.js';

// Skipped on the graphql 17 run: Apollo Server's own peer range is graphql ^16.11.
const APOLLO_SUPPORTS_THIS_GRAPHQL = versionInfo.major === 16;

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
const closers: Array<() => Promise<void>> = [];
const counters: Counters = newCounters();
let url = '';
let strictUrl = '';
const tokens = { alice: '', admin: '', writer: '', member: '', expired: '' };
/** Every 401 any test below received, to check its challenge once more at the end. */
const unauthorized: GraphQLResponse[] = [];

/** Starts an Apollo Server on a free loopback port; stopped after the file. */
async function start(server: ApolloServer<ClerkGraphQLContext>, context: (args: { req: unknown }) => Promise<ClerkGraphQLContext>): Promise<string> {
  const { url: base } = await startStandaloneServer(server, { context, listen: { port: 0, host: '127.0.0.1' } });
  closers.push(() => server.stop());
  return new URL('/graphql', base).href;
}

/** POSTs an operation; checks what every answer must satisfy (no `extensions.http`, a challenge on every 401). */
async function gql(target: string, query: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<GraphQLResponse> {
  const response = await post(target, query, options);
  expect(JSON.stringify(response.body)).not.toMatch(/"http"/);
  if (response.status === 401) {
    unauthorized.push(response);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  }
  return response;
}

beforeAll(async () => {
  if (!APOLLO_SUPPORTS_THIS_GRAPHQL) return;
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  const schema = makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters, 50) });
  url = await start(new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin()] }), createClerkGraphQLContext(clerkAuth));
  strictUrl = await start(
    new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin({ clerkAuth, rejectUnauthorized: true })] }),
    createClerkGraphQLContext(clerkAuth),
  );
  const lifetime = { expiresInSeconds: 600 };
  tokens.alice = await issuer.sessionToken({ ...ALICE, ...lifetime });
  tokens.admin = await issuer.sessionToken({ ...ADMIN, ...lifetime });
  tokens.writer = await issuer.sessionToken({ ...WRITER, ...lifetime });
  tokens.member = await issuer.sessionToken({ ...MEMBER, ...lifetime });
  tokens.expired = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60, issuedAtOffsetSeconds: -120 });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe.skipIf(!APOLLO_SUPPORTS_THIS_GRAPHQL)('clerkApolloPlugin on Apollo Server (startStandaloneServer)', () => {
  it('answers public fields to anyone, whatever the token', async () => {
    for (const token of [undefined, tokens.alice, tokens.expired, 'garbage.token.value']) {
      const response = await gql(url, '{ health }', token === undefined ? {} : { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { health: 'ok' } });
    }
  });

  it('signed out: a guarded field is null with UNAUTHENTICATED at its path, null propagating; nothing of it leaks, HTTP 200', async () => {
    // Note is @auth (every field of it); Query.notes, a nullable list of non-null notes, is public.
    const response = await gql(url, '{ health notes { text } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ health: 'ok', notes: null });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({ path: ['notes', 0, 'text'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
    expect(JSON.stringify(response.body)).not.toContain(SECRET);
  });

  it('signed in: the guarded field answers', async () => {
    const response = await gql(url, '{ notes { id text } }', { token: tokens.alice });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { notes: [{ id: 'note_1', text: SECRET }] } });
  });

  it('role: FORBIDDEN without it (the rest answers), the data with it', async () => {
    const denied = await gql(url, '{ health admin }', { token: tokens.member });
    expect(denied.status).toBe(200);
    expect(denied.body.data).toEqual({ health: 'ok', admin: null });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    expect(denied.body.errors?.[0]?.path).toEqual(['admin']);
    expect((await gql(url, '{ admin }', { token: tokens.admin })).body).toEqual({ data: { admin: 'admin-data' } });
  });

  it('permission: FORBIDDEN without it, the data with it', async () => {
    const denied = await gql(url, '{ perm }', { token: tokens.writer });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ data: { perm: null } });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    expect((await gql(url, '{ perm }', { token: tokens.admin })).body).toEqual({ data: { perm: 'perm-data' } });
  });

  it('null propagates through a denied non-null field, per the spec', async () => {
    const response = await gql(url, '{ health strictAdmin }', { token: tokens.member });
    expect(response.status).toBe(200);
    expect(response.body.data).toBeNull();
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(response.body.errors?.[0]?.path).toEqual(['strictAdmin']);
  });

  it('a denied field in a list: each item null (non-null fields null the item), one error, not one per item', async () => {
    const nullable = await gql(url, '{ items { id a } }');
    expect(nullable.status).toBe(200);
    const items = nullable.body.data?.items as Array<{ id: string; a: null }>;
    expect(items).toHaveLength(50);
    expect(items.every((item) => item.a === null && item.id.startsWith('i'))).toBe(true);
    expect(codes(nullable)).toEqual(['UNAUTHENTICATED']);

    const strict = await gql(url, '{ strictItems { id a } }');
    expect(strict.status).toBe(200);
    expect(strict.body.data?.strictItems).toEqual(Array.from({ length: 50 }, () => null));
    expect(codes(strict)).toEqual(['UNAUTHENTICATED']);
  });

  it('a field reached through an interface is settled by its runtime type', async () => {
    const note = await gql(url, '{ node(id: "note_1") { id ... on Note { text } } publicNode: node(id: "public_1") { id ... on Public { name } } }');
    expect(note.status).toBe(200);
    expect(note.body.data).toEqual({ node: null, publicNode: { id: 'public_1', name: 'PUBLIC_NAME' } });
    expect(codes(note)).toEqual(['UNAUTHENTICATED']);
  });

  it('an expired token is never anonymous: 401 invalid_token / token-expired, the whole operation, no resolver runs', async () => {
    const before = counters.resolved;
    const response = await gql(url, '{ health notes { id } }', { token: tokens.expired });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect(response.body.data).toBeUndefined();
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect(counters.resolved).toBe(before);
  });

  it('a forged token: 401 invalid_token, whole', async () => {
    const response = await gql(url, '{ notes { id } }', { token: 'garbage.token.value' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('a malformed Authorization: 400 invalid_request, whole', async () => {
    const response = await gql(url, '{ notes { id } }', { headers: { authorization: `Bearer ${tokens.alice}, Bearer ${tokens.admin}` } });
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
    expect(codes(response)).toEqual(['INVALID_REQUEST']);
  });

  it('a denied mutation runs nothing: 401 signed out, 403 without the role; runs once with it', async () => {
    const before = { ...counters };
    const anonymous = await gql(url, 'mutation { adminOnly }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);

    const member = await gql(url, 'mutation { adminOnly }', { token: tokens.member });
    expect(member.status).toBe(403);
    expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(codes(member)).toEqual(['FORBIDDEN']);

    // A guarded type under a public mutation: rejected before touchNote runs.
    const touch = await gql(url, 'mutation { touchNote { id } }');
    expect(touch.status).toBe(401);
    expect(counters.adminOnly).toBe(before.adminOnly);
    expect(counters.touchNote).toBe(before.touchNote);

    const admin = await gql(url, 'mutation { adminOnly }', { token: tokens.admin });
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({ data: { adminOnly: true } });
    expect(counters.adminOnly).toBe(before.adminOnly + 1);
  });

  it('rejectUnauthorized: a query with a denied field is rejected whole (401 / 403), no resolver runs', async () => {
    const before = counters.resolved;
    const anonymous = await gql(strictUrl, '{ health notes { id } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const member = await gql(strictUrl, '{ health admin }', { token: tokens.member });
    expect(member.status).toBe(403);
    expect(counters.resolved).toBe(before);
    expect((await gql(strictUrl, '{ health }')).status).toBe(200);
  });

  it('graphql-request with createClerkFetch refreshes an expired token once and gets the data', async () => {
    const asked: Array<{ skipCache: boolean }> = [];
    const clerkFetch = createClerkFetch({
      getToken: async (options) => {
        asked.push({ skipCache: options?.skipCache === true });
        return options?.skipCache === true ? tokens.alice : tokens.expired;
      },
    });
    const client = new GraphQLClient(url, { fetch: clerkFetch, headers: { accept: 'application/graphql-response+json' } });
    const data = await client.request<{ notes: Array<{ id: string }> }>('{ notes { id } }');
    expect(data).toEqual({ notes: [{ id: 'note_1' }] });
    expect(asked).toEqual([{ skipCache: false }, { skipCache: true }]);

    // A 403 is not refreshable: no second token, the client sees the FORBIDDEN error.
    asked.length = 0;
    const memberFetch = createClerkFetch({
      getToken: async (options) => {
        asked.push({ skipCache: options?.skipCache === true });
        return tokens.member;
      },
    });
    const error = await new GraphQLClient(url, { fetch: memberFetch }).request('mutation { adminOnly }').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).response.status).toBe(403);
    expect((error as ClientError).response.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(asked).toEqual([{ skipCache: false }]);
  });

  it('every 401 above carried WWW-Authenticate: Bearer', () => {
    expect(unauthorized.length).toBeGreaterThanOrEqual(5);
    for (const response of unauthorized) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer( error="invalid_token".*)?$/);
  });
});

describe.skipIf(!APOLLO_SUPPORTS_THIS_GRAPHQL)('clerkApolloPlugin: configuration and edges', () => {
  it('refuses invalid options at creation, naming the fix', () => {
    expect(() => clerkApolloPlugin({ secretKey: 'sk_test_x' } as never)).toThrow(ClerkAuthConfigError);
    expect(() => clerkApolloPlugin({ secretKey: 'sk_test_x' } as never)).toThrow(/unknown option secretKey.*createClerkGraphQLContext/);
    expect(() => clerkApolloPlugin({ rejectUnauthorized: 'yes' } as never)).toThrow(/rejectUnauthorized/);
    expect(() => clerkApolloPlugin({ clerkAuth: {} as never })).toThrow(/createClerkAuth/);
    expect(() => clerkApolloPlugin(42 as never)).toThrow(ClerkAuthConfigError);
    expect(clerkApolloPlugin(clerkAuth).requestDidStart).toBeTypeOf('function');
  });

  it('a malformed rule fails when Apollo loads the schema, not on the first request', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { report: { type: GraphQLString, extensions: { clerk: { rol: 'org:admin' } as never } } } }),
    });
    const server = new ApolloServer({ schema, plugins: [clerkApolloPlugin()] });
    await expect(server.start()).rejects.toThrow(/Query\.report.*unknown key "rol"/s);
  });

  it('without a Clerk context: 500 CLERK_AUTH_CONFIG naming createClerkGraphQLContext, nothing runs', async () => {
    const local = newCounters();
    const schema = makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(local, 1) });
    const server = new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin()] });
    const target = await start(server, async () => ({}) as ClerkGraphQLContext);
    const response = await gql(target, '{ health notes { id } }', { token: tokens.alice });
    expect(response.status).toBe(500);
    expect(codes(response)).toEqual(['CLERK_AUTH_CONFIG']);
    expect(response.body.errors?.[0]?.message).toMatch(/createClerkGraphQLContext/);
    expect(local.resolved).toBe(0);
  });

  it("this package's errors raised in resolvers keep their code (ClerkSecretKeyRequiredError in networkless mode)", async () => {
    const schema = makeExecutableSchema<ClerkGraphQLContext>({
      typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
      resolvers: { Query: { me: async (_source, _args, ctx) => (await ctx.clerk.users.getUser(ctx.auth.userId ?? '')).id } },
    });
    const target = await start(new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin()] }), createClerkGraphQLContext(clerkAuth));
    const response = await gql(target, '{ me }', { token: tokens.alice });
    expect(response.status).toBe(200);
    expect(codes(response)).toEqual(['CLERK_SECRET_KEY_REQUIRED']);
    expect(response.body.errors?.[0]?.message).toMatch(/CLERK_SECRET_KEY/);
  });

  it('a schema from clerkDirectiveTransformer too: its own rejection is answered with its status, without `http` in the body', async () => {
    // The transformer rejects whole (rejectUnauthorized) what the plugin would answer partially: the
    // transformer's error (a plain-object `extensions.http`) is the one that answers.
    const local = newCounters();
    const schema = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(local, 1) }), { rejectUnauthorized: true });
    const target = await start(new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin()] }), createClerkGraphQLContext(clerkAuth));
    const response = await gql(target, '{ health notes { id } }');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(local.resolved).toBe(0);
    expect((await gql(target, '{ notes { id } }', { token: tokens.alice })).body).toEqual({ data: { notes: [{ id: 'note_1' }] } });
  });
});

describe.skipIf(!APOLLO_SUPPORTS_THIS_GRAPHQL)('clerkApolloPlugin: Clerk unreachable', () => {
  let api: FakeClerkApi;
  let target = '';

  beforeAll(async () => {
    api = await startFakeClerkApi({ issuer });
    closers.push(() => api.close());
    // Keys from the Backend API's JWKS (no CLERK_JWT_KEY): verifying needs Clerk.
    const networked = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    const schema = makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(newCounters(), 1) });
    target = await start(new ApolloServer<ClerkGraphQLContext>({ schema, plugins: [clerkApolloPlugin()] }), createClerkGraphQLContext(networked));
  });

  it('answers 503 with Retry-After, whole, and never a 500', async () => {
    api.setFault({ mode: 'down' });
    const response = await gql(target, '{ health notes { id } }', { token: tokens.alice });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(codes(response)).toEqual(['CLERK_API_UNAVAILABLE']);
    expect(api.count('jwks')).toBeGreaterThan(0);
    api.setFault({ mode: 'none' });
  });
});
