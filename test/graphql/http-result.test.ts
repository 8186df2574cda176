/**
 * `clerkHttpResult`: a plain `graphql()` result on a schema from `clerkDirectiveTransformer` → the
 * HTTP answer (status, `WWW-Authenticate` / `Retry-After`, and the body without `extensions.http`),
 * by the core's one precedence. In-process, real tokens; runs on graphql 16 and 17.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, GraphQLError, type ExecutionResult } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, clerkHttpResult, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { createResolvers, fixtureTypeDefs, newCounters, type Counters } from './fixtures.js';
import { ADMIN, ALICE, MEMBER } from './helpers.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let counters: Counters;
let run: (source: string, token?: string) => Promise<ExecutionResult>;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  counters = newCounters();
  const schema = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters, 3) }));
  const clerkContext = createClerkGraphQLContext(clerkAuth);
  run = async (source, token) => {
    const request = new Request('https://api.example.com/graphql', { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    return graphql({ schema, source, contextValue: await clerkContext(request) });
  };
});

const json = (value: unknown): string => JSON.stringify(value);

describe('clerkHttpResult on graphql() results', () => {
  it('a result without errors is 200 with no header, the body untouched', async () => {
    const result = await run('{ health }');
    const answer = clerkHttpResult(result);
    expect(answer).toEqual({ status: 200, headers: {}, body: result });
    expect(answer.body).toBe(result);
  });

  it('a denied mutation signed out: 401, WWW-Authenticate: Bearer, one error without `http`, nothing ran', async () => {
    const before = counters.adminOnly;
    const result = await run('mutation { adminOnly touchNote { id } }');
    expect(json(result)).toMatch(/"http"/); // what graphql() itself returns carries it...
    const { status, headers, body } = clerkHttpResult(result);
    expect(status).toBe(401);
    expect(headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(json(body)).not.toMatch(/"http"/); // ...and the body does not
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    expect(counters.adminOnly).toBe(before);
  });

  it('without the role: 403 insufficient_scope', async () => {
    const { status, headers, body } = clerkHttpResult(await run('mutation { adminOnly }', await issuer.sessionToken(MEMBER)));
    expect(status).toBe(403);
    expect(headers).toEqual({ 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
  });

  it('an expired token: 401 invalid_token / token-expired, for a query too', async () => {
    const expired = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60, issuedAtOffsetSeconds: -120 });
    const { status, headers, body } = clerkHttpResult(await run('{ health notes { id } }', expired));
    expect(status).toBe(401);
    expect(headers).toEqual({ 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="token-expired"' });
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('partial data stays 200, each denied field once, null propagating', async () => {
    // Signed out: strictItems' non-null `a` raises at each of the 3 items (null propagates to each item).
    const { status, headers, body } = clerkHttpResult(await run('{ health strictItems { id a } admin }'));
    expect(status).toBe(200);
    expect(headers).toEqual({});
    expect(body.data).toEqual({ health: 'ok', strictItems: [null, null, null], admin: null });
    expect(body.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([
      ['strictItems.0.a', 'UNAUTHENTICATED'],
      ['admin', 'UNAUTHENTICATED'],
    ]);
  });

  it('signed in with the role: 200, the data', async () => {
    expect(clerkHttpResult(await run('mutation { adminOnly }', await issuer.sessionToken(ADMIN)))).toMatchObject({ status: 200, body: { data: { adminOnly: true } } });
  });

  it('body errors are GraphQLErrors: JSON.stringify gives the spec shape', async () => {
    const { body } = clerkHttpResult(await run('mutation { adminOnly }'));
    expect(body.errors?.[0]).toBeInstanceOf(GraphQLError);
    expect(JSON.parse(json(body))).toEqual({
      data: { adminOnly: null },
      errors: [{ message: expect.any(String), locations: [{ line: 1, column: 12 }], path: ['adminOnly'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } }],
    });
  });

  it("this package's errors thrown by a resolver keep their code (ClerkSecretKeyRequiredError)", async () => {
    const schema = clerkDirectiveTransformer(
      makeExecutableSchema({
        typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
        resolvers: { Query: { me: async (_: unknown, __: unknown, ctx: { clerk: ClerkAuth['clerk'] }) => (await ctx.clerk.users.getUser('user_alice')).id } },
      }),
    );
    const contextValue = await createClerkGraphQLContext(clerkAuth)(await issuer.sessionToken(ALICE));
    const { status, body } = clerkHttpResult(await graphql({ schema, source: '{ me }', contextValue }));
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions?.code).toBe('CLERK_SECRET_KEY_REQUIRED');
  });
});

describe('clerkHttpResult: several `extensions.http`, by the core precedence (503 > 400 > 401 > 403)', () => {
  const denial = (code: string, status: number, headers: Record<string, string> | Map<string, string>) =>
    new GraphQLError(code, { extensions: { code, http: { status, headers } } as never });
  const result = (...errors: GraphQLError[]): ExecutionResult => ({ data: null, errors });

  it('401 over 403, with the 401 challenge', () => {
    const answer = clerkHttpResult(
      result(denial('FORBIDDEN', 403, { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' }), denial('UNAUTHENTICATED', 401, { 'WWW-Authenticate': 'Bearer' })),
    );
    expect(answer.status).toBe(401);
    expect(answer.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(answer.body.errors).toHaveLength(2);
    expect(json(answer.body)).not.toMatch(/"http"/);
  });

  it('400 over 401; 503 over everything, with Retry-After and the strongest challenge', () => {
    expect(
      clerkHttpResult(result(denial('UNAUTHENTICATED', 401, { 'WWW-Authenticate': 'Bearer' }), denial('INVALID_REQUEST', 400, { 'WWW-Authenticate': 'Bearer error="invalid_request"' }))).status,
    ).toBe(400);
    const unavailable = clerkHttpResult(
      result(denial('UNAUTHENTICATED', 401, { 'WWW-Authenticate': 'Bearer' }), denial('CLERK_API_UNAVAILABLE', 503, { 'Retry-After': '7' })),
    );
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers).toEqual({ 'WWW-Authenticate': 'Bearer', 'Retry-After': '7' });
  });

  it('honours Apollo-style headers (a Map) and other headers; an `http` without a status is only removed', () => {
    const apollo = clerkHttpResult(result(denial('FORBIDDEN', 403, new Map([['WWW-Authenticate', 'Bearer error="insufficient_scope"'], ['x-trace', 'abc']]))));
    expect(apollo).toMatchObject({ status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"', 'x-trace': 'abc' } });
    const statusless = clerkHttpResult(result(new GraphQLError('mine', { extensions: { code: 'MINE', http: { spec: true } } as never })));
    expect(statusless.status).toBe(200);
    expect(statusless.body.errors?.[0]?.extensions).toEqual({ code: 'MINE' });
  });
});
