/**
 * One contract for both integrations, over real loopback HTTP with real tokens: the same credential
 * rules, the same errors and statuses, the same `ctx.auth`, and machine tokens verified only where a
 * guard accepts their kind (an opaque `ak_…` sent to a public procedure or field costs no Backend API
 * call, so anonymous traffic cannot spend the instance's Clerk rate limit).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createSchema, createYoga } from 'graphql-yoga';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { clerkDirectiveTypeDefs, machineAuthOf, useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
let trpcUrl = '';
let graphqlUrl = '';
let machineGraphqlUrl = '';
const servers: Server[] = [];

/** Both integrations report what `ctx.auth` was, so the test can compare them. */
interface Seen {
  tokenType: string | null;
  isAuthenticated: boolean;
  userId: string | null;
  reason: string | null;
}
const seen = (ctx: { auth: ClerkContext['auth']; signedOutReason: ClerkContext['signedOutReason'] }): Seen => ({
  tokenType: ctx.auth.tokenType,
  isAuthenticated: ctx.auth.isAuthenticated,
  userId: ctx.auth.userId,
  reason: ctx.signedOutReason,
});

function buildRouter() {
  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
  const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
  return t.router({
    health: publicProcedure.query(({ ctx }) => seen(ctx)),
    whoami: protectedProcedure.query(({ ctx }) => ctx.auth.userId),
    ping: machineProcedure.query(({ ctx }) => ctx.auth.subject),
    key: publicProcedure.use(authorize({ token: 'api_key' })).query(({ ctx }) => ctx.auth.subject),
  });
}

async function serve(handler: (request: Request) => Promise<Response>): Promise<string> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const response = await handler(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, ...(body && { body }) }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, jwtKey: issuer.jwtKey });
  const router = buildRouter();
  const createContext = createClerkContext(clerkAuth);
  trpcUrl = `${await serve((req) => fetchRequestHandler({ endpoint: '/trpc', req, router, createContext }))}/trpc`;
  const yoga = createYoga<object, ClerkGraphQLContext>({
    schema: createSchema<ClerkGraphQLContext>({
      typeDefs: [clerkDirectiveTypeDefs, 'type Seen { tokenType: String isAuthenticated: Boolean! userId: String reason: String } type Query { health: Seen! me: String @auth }'],
      resolvers: { Query: { health: (_, __, ctx) => seen(ctx), me: (_, __, ctx) => ctx.auth.userId } },
    }),
    plugins: [useClerk(clerkAuth)],
    logging: false,
  });
  graphqlUrl = `${await serve((request) => Promise.resolve(yoga.fetch(request)))}/graphql`;
  // Code-first: a field only API keys may read; its resolver asks for the machine by name.
  const machineYoga = createYoga<object, ClerkGraphQLContext>({
    schema: new GraphQLSchema({
      query: new GraphQLObjectType<unknown, ClerkGraphQLContext>({
        name: 'Query',
        fields: {
          health: { type: new GraphQLNonNull(GraphQLString), resolve: () => 'ok' },
          keyOwner: {
            type: GraphQLString,
            extensions: { clerk: { token: 'api_key' } },
            resolve: async (_, __, ctx) => `${ctx.auth.isAuthenticated}:${(await machineAuthOf(ctx))?.subject ?? 'none'}`,
          },
        },
      }),
    }),
    plugins: [useClerk(clerkAuth)],
    logging: false,
  });
  machineGraphqlUrl = `${await serve((request) => Promise.resolve(machineYoga.fetch(request)))}/graphql`;
});

afterAll(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
});

beforeEach(() => api.resetCounts());

const verifications = () => api.count('api_keys.verify') + api.count('m2m_tokens.verify') + api.count('oauth.verify');

async function trpc(path: string, authorization?: string | string[]): Promise<{ status: number; headers: Headers; body: unknown }> {
  const headers = new Headers();
  for (const value of [authorization ?? []].flat()) headers.append('authorization', value);
  const response = await fetch(`${trpcUrl}/${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function graphql(query: string, authorization?: string): Promise<{ status: number; headers: Headers; body: { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> } }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}

describe('machine tokens are verified only where a guard accepts their kind', () => {
  it('garbage and real opaque tokens sent to public procedures and fields cost no Backend API call', async () => {
    const real = issuer.apiKey({ subject: 'user_k' });
    for (const token of ['ak_garbage_1', 'ak_garbage_2', 'mt_garbage', 'oat_garbage', real.token]) {
      expect((await trpc('health', `Bearer ${token}`)).status).toBe(200);
      expect((await graphql('{ health { tokenType } }', `Bearer ${token}`)).status).toBe(200);
    }
    expect(verifications()).toBe(0);
  });

  it('a session guard refuses an opaque token as the wrong kind, with no Backend API call', async () => {
    const real = issuer.apiKey({ subject: 'user_k' });
    const trpcAnswer = await trpc('whoami', `Bearer ${real.token}`);
    expect(trpcAnswer.status).toBe(401);
    expect(trpcAnswer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-type-mismatch"');
    const gqlAnswer = await graphql('{ me }', `Bearer ${real.token}`);
    expect(gqlAnswer.status).toBe(401);
    expect(gqlAnswer.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-type-mismatch' });
    expect(verifications()).toBe(0);
  });

  it('a guard that accepts the kind verifies it once per request, batch included', async () => {
    const real = issuer.apiKey({ subject: 'user_k' });
    expect((await trpc('key', `Bearer ${real.token}`)).body).toMatchObject({ result: { data: 'user_k' } });
    expect(api.count('api_keys.verify')).toBe(1);
    api.resetCounts();
    // A key not seen before (the first is now answered from the store, machineTokens.acceptedTtlMs).
    const fresh = issuer.apiKey({ subject: 'user_k' });
    const batch = await trpc('key,ping,health?batch=1&input=%7B%7D', `Bearer ${fresh.token}`);
    expect(batch.status).toBe(200);
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('repeated garbage for a machine guard is answered 401 and each distinct token asked once', async () => {
    const first = await trpc('key', 'Bearer ak_not_a_real_key');
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(api.count('api_keys.verify')).toBe(1);
  });
});

describe('GraphQL fields whose rule accepts a machine kind', () => {
  async function ask(query: string, authorization?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const response = await fetch(machineGraphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query }) });
    return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> } };
  }

  it('verify the key once, keep ctx.auth the session view, and hand the machine to the resolver by name', async () => {
    const key = issuer.apiKey({ subject: 'user_owner' });
    expect(await ask('{ keyOwner }', `Bearer ${key.token}`)).toEqual({ status: 200, body: { data: { keyOwner: 'false:user_owner' } } });
    expect(api.count('api_keys.verify')).toBe(1);
    api.resetCounts();
    // Not selected: not verified.
    expect(await ask('{ health }', `Bearer ${key.token}`)).toEqual({ status: 200, body: { data: { health: 'ok' } } });
    expect(api.count('api_keys.verify')).toBe(0);
    // A session is the wrong kind for this field: refused whole, as any presented credential that fails.
    const session = await issuer.sessionToken({ userId: 'user_s', expiresInSeconds: 600 });
    const refused = await ask('{ keyOwner }', `Bearer ${session}`);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-type-mismatch' });
    // No token: partial data, the field null with its error.
    const anonymous = await ask('{ health keyOwner }');
    expect(anonymous.body.data).toEqual({ health: 'ok', keyOwner: null });
    expect(anonymous.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
  });
});

describe('the same ctx.auth in tRPC and GraphQL', () => {
  it('is the session view for every kind of credential, and Clerk’s signed-out object otherwise', async () => {
    const m2mJwt = await issuer.m2mToken({ machineId: 'mch_1' });
    const session = await issuer.sessionToken({ userId: 'user_same', expiresInSeconds: 600 });
    const cases: Array<[string | undefined, Seen]> = [
      [undefined, { tokenType: 'session_token', isAuthenticated: false, userId: null, reason: 'token-missing' }],
      [`Bearer ${session}`, { tokenType: 'session_token', isAuthenticated: true, userId: 'user_same', reason: null }],
      [`Bearer ${m2mJwt}`, { tokenType: 'session_token', isAuthenticated: false, userId: null, reason: 'token-type-mismatch' }],
      ['Bearer ak_whatever', { tokenType: 'session_token', isAuthenticated: false, userId: null, reason: 'token-type-mismatch' }],
      ['Bearer not-a-jwt', { tokenType: 'session_token', isAuthenticated: false, userId: null, reason: 'token-invalid' }],
    ];
    for (const [authorization, expected] of cases) {
      const fromTrpc = (await trpc('health', authorization)).body as { result: { data: Seen } };
      const fromGraphql = (await graphql('{ health { tokenType isAuthenticated userId reason } }', authorization)).body as { data: { health: Seen } };
      expect(fromTrpc.result.data).toEqual(expected);
      expect(fromGraphql.data.health).toEqual(expected);
    }
  });
});

describe('RFC 6750 §3.1: a malformed or doubled credential is 400 invalid_request, never a token a refresh could fix', () => {
  it('tRPC and GraphQL answer alike', async () => {
    const session = await issuer.sessionToken({ userId: 'user_400', expiresInSeconds: 600 });
    const malformed = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Bearer ${session},`];
    for (const authorization of malformed) {
      const fromTrpc = await trpc('whoami', authorization);
      expect(fromTrpc.status, authorization).toBe(400);
      expect(fromTrpc.headers.get('www-authenticate')).toBe('Bearer error="invalid_request", error_description="malformed-authorization-header"');
      const fromGraphql = await graphql('{ me }', authorization);
      expect(fromGraphql.status, authorization).toBe(400);
      expect(fromGraphql.headers.get('www-authenticate')).toBe('Bearer error="invalid_request", error_description="malformed-authorization-header"');
      expect(fromGraphql.body.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_REQUEST', reason: 'malformed-authorization-header' });
    }
    const doubled = await trpc('whoami', [`Bearer ${session}`, `Bearer ${session}`]);
    expect(doubled.status).toBe(400);
    expect(doubled.headers.get('www-authenticate')).toBe('Bearer error="invalid_request", error_description="multiple-authorization-headers"');
    // One token with characters outside token68 is a bad token (401 invalid_token), like any other.
    const badToken = await trpc('whoami', 'Bearer tok$n');
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-invalid"');
    expect((await graphql('{ me }', 'Bearer tok$n')).status).toBe(401);
    // Public procedures and fields still answer.
    expect((await trpc('health', 'Basic abc')).status).toBe(200);
    expect((await graphql('{ health { reason } }', 'Basic abc')).status).toBe(200);
  });
});

describe('one credential reader for connection params', () => {
  it('tRPC reads the same keys GraphQL does, with the same conflict rule', async () => {
    const session = await issuer.sessionToken({ userId: 'user_params', expiresInSeconds: 600 });
    const other = await issuer.sessionToken({ userId: 'user_other', expiresInSeconds: 600 });
    const call = (params: Record<string, unknown>, authorization?: string) =>
      trpc(`whoami?connectionParams=${encodeURIComponent(JSON.stringify(params))}`, authorization);
    // (tRPC's connectionParams are flat strings, so `headers.authorization` is a graphql-ws form only.)
    for (const params of [{ token: session }, { authorization: `Bearer ${session}` }, { Authorization: session }, { AUTHORIZATION: `bearer ${session}` }]) {
      expect((await call(params)).body, JSON.stringify(Object.keys(params))).toMatchObject({ result: { data: 'user_params' } });
    }
    // The same token in params and header is one credential; two different ones are refused as two.
    expect((await call({ token: session }, `Bearer ${session}`)).status).toBe(200);
    const two = await call({ token: session }, `Bearer ${other}`);
    expect(two.status).toBe(400);
    expect(two.headers.get('www-authenticate')).toContain('multiple-authorization-headers');
    expect((await call({ token: session, authorization: `Bearer ${other}` })).status).toBe(400);
  });
});

describe('acceptsToken on createClerkAuth is honoured or refused', () => {
  it('integrations refuse a ClerkAuth whose acceptsToken they would silently ignore, at startup', () => {
    const any = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, acceptsToken: 'any' });
    expect(() => createClerkContext(any)).toThrow(/acceptsToken/);
    expect(() => useClerk(any)).toThrow(/acceptsToken/);
    expect(() => createClerkContext({ env: {}, jwtKey: issuer.jwtKey, acceptsToken: ['api_key'] })).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
  });
});
