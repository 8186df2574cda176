/**
 * clerkDirectiveTransformer on plain `graphql()` / `subscribe()` executions (no Yoga), with contexts
 * from createClerkGraphQLContext and real tokens.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execute, graphql, parse, subscribe, type ExecutionResult } from 'graphql';
// graphql-yoga's createSchema is graphql-tools' makeExecutableSchema: a plain executable schema, no server.
import { createSchema as makeExecutableSchema } from 'graphql-yoga';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { createResolvers, fixtureTypeDefs, newCounters, SECRET, type Counters } from './fixtures.js';
import { ADMIN, ALICE, MEMBER } from './helpers.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let counters: Counters;
let schema: ReturnType<typeof clerkDirectiveTransformer>;
let context: (token?: string) => Promise<ClerkGraphQLContext>;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  counters = newCounters();
  schema = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters, 50) }));
  const build = createClerkGraphQLContext(clerkAuth);
  context = (token) => build(token === undefined ? null : new Request('http://api.test/graphql', { headers: { authorization: `Bearer ${token}` } }));
});

async function run(source: string, token?: string, variableValues?: Record<string, unknown>): Promise<ExecutionResult> {
  return graphql({ schema, source, contextValue: await context(token), ...(variableValues && { variableValues }) });
}

const codesOf = (result: ExecutionResult) => (result.errors ?? []).map((error) => error.extensions.code);

describe('queries', () => {
  it('signed out: denied fields are null with UNAUTHENTICATED at their path; the rest answers', async () => {
    const result = await run('{ health holder { note { text } public { name } } }');
    expect(result.data).toEqual({ health: 'ok', holder: { note: null, public: { name: 'PUBLIC_NAME' } } });
    expect(result.errors?.[0]?.path).toEqual(['holder', 'note', 'text']);
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
  });

  it('signed in: everything', async () => {
    const result = await run('{ notes { text extra } doc { secret } }', await issuer.sessionToken(ALICE));
    expect(result.errors).toBeUndefined();
    expect(result.data?.notes).toEqual([{ text: SECRET, extra: `EXTRA_${SECRET}` }]);
  });

  it('roles and permissions: FORBIDDEN when signed in without them', async () => {
    const member = await issuer.sessionToken(MEMBER);
    expect(codesOf(await run('{ admin perm }', member))).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect((await run('{ admin perm }', await issuer.sessionToken(ADMIN))).data).toEqual({ admin: 'admin-data', perm: 'perm-data' });
  });

  it('no bypass through aliases, fragments, interfaces, unions or interface-level directives', async () => {
    for (const query of [
      '{ x: notes { y: text } }',
      '{ notes { ...F } } fragment F on Note { text }',
      '{ node(id: "note_1") { ... on Note { text } } }',
      '{ search { ... on Note { text } } }',
      '{ secretive { secret } }',
      '{ doc { secret } }',
      'query ($s: Boolean!) { notes @include(if: $s) { extra } }',
    ]) {
      const result = await run(query, undefined, { s: true });
      expect(JSON.stringify(result.data ?? null)).not.toContain(SECRET);
      expect(result.errors?.length).toBeGreaterThan(0);
    }
  });

  it('interface implementations are guarded by the interface rule, decided per runtime type', async () => {
    const result = await run('{ a: node(id: "note_1") { id } b: node(id: "public_1") { id } }');
    expect(result.data).toEqual({ a: null, b: { id: 'public_1' } });
    expect(result.errors).toHaveLength(1);
  });

  it('a denied nullable field in a list is reported once', async () => {
    const result = await run('{ items { id a b c d e } }');
    expect(result.errors).toHaveLength(5);
    expect((result.data?.items as unknown[]).length).toBe(50);
  });

  it('a presented token that failed rejects any operation selecting a guarded field, with HTTP 401 metadata', async () => {
    const expired = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 });
    expect((await run('{ health }', expired)).data).toEqual({ health: 'ok' });
    const before = counters.resolved;
    const result = await run('{ health notes { id } }', expired);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'token-expired',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="token-expired"' } },
    });
    expect(counters.resolved).toBe(before);
  });

  it('rejectUnauthorized rejects the whole query before any resolver runs', async () => {
    const strict = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters) }), {
      rejectUnauthorized: true,
    });
    const before = counters.resolved;
    const result = await graphql({ schema: strict, source: '{ notes { id } }', contextValue: await context() });
    expect(result.data).toEqual({ notes: null });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect(counters.resolved).toBe(before);
  });

  it('fails closed, saying what to do, when the context carries no Clerk auth', async () => {
    const result = await graphql({ schema, source: '{ health notes { id } }', contextValue: {} });
    expect(result.errors?.[0]?.message).toMatch(/createClerkGraphQLContext/);
    expect(JSON.stringify(result.data ?? null)).not.toContain('note_1');
  });
});

describe('hostile documents', () => {
  it('a fragment bomb (each fragment spread twice, 40 levels) is walked once per selection set, not 2^40 times', async () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Query { notes { text } }` : `fragment F${i} on Query { ...F${i + 1} holder { ...H${i} } ...F${i + 1} }
       fragment H${i} on Holder { public { name } }`,
    );
    const document = parse(`{ ...F0 } ${fragments.join('\n')}`);
    const result = await execute({ schema, document, contextValue: await context() });
    expect(JSON.stringify(result.data ?? null)).not.toContain(SECRET);
    expect(result.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('type-level directives', () => {
  it('a directive on `extend type` guards every field of the type, the base definition included', async () => {
    const extended = clerkDirectiveTransformer(
      makeExecutableSchema({
        typeDefs: [clerkDirectiveTypeDefs, 'type Query { a: String } extend type Query @hasRole(role: "org:admin") { b: String }'],
        resolvers: { Query: { a: () => 'a', b: () => 'b' } },
      }),
    );
    const member = await graphql({ schema: extended, source: '{ a b }', contextValue: await context(await issuer.sessionToken(MEMBER)) });
    expect(member.data).toEqual({ a: null, b: null });
    expect(codesOf(member)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    const admin = await graphql({ schema: extended, source: '{ a b }', contextValue: await context(await issuer.sessionToken(ADMIN)) });
    expect(admin).toEqual({ data: { a: 'a', b: 'b' } });
  });
});

describe('mutations', () => {
  it('are rejected at the root before their resolver runs, guarded result types included', async () => {
    const before = { ...counters };
    const anonymous = await run('mutation { touchNote { id } }');
    expect(anonymous.data).toBeNull();
    expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    const member = await run('mutation { touchPublic { id } adminOnly }', await issuer.sessionToken(MEMBER));
    // touchPublic is non-null: its rejection nulls data and the serial execution stops there.
    expect(member.data).toBeNull();
    expect(codesOf(member)).toEqual(['FORBIDDEN']);
    expect(member.errors?.[0]?.extensions).toMatchObject({ http: { status: 403 } });
    expect(counters).toEqual(before);
  });

  it('run when allowed', async () => {
    const result = await run('mutation { touchNote { text } adminOnly }', await issuer.sessionToken(ADMIN));
    expect(result).toEqual({ data: { touchNote: { text: SECRET }, adminOnly: true } });
  });
});

describe('subscriptions', () => {
  it('subscribe never runs when denied', async () => {
    const before = counters.subscribed;
    for (const query of ['subscription { ticks }', 'subscription { noteFeed { id } }']) {
      const result = (await subscribe({ schema, document: parse(query), contextValue: await context() })) as ExecutionResult;
      expect(result.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(counters.subscribed).toBe(before);
  });

  it('streams when allowed, and ends with UNAUTHENTICATED when the session token expires', async () => {
    const token = await issuer.sessionToken({ ...ALICE, expiresInSeconds: 600 });
    const stream = (await subscribe({ schema, document: parse('subscription { ticks }'), contextValue: await context(token) })) as AsyncIterable<ExecutionResult>;
    const ticks: unknown[] = [];
    for await (const result of stream) ticks.push(result.data?.ticks);
    expect(ticks).toEqual([1, 2, 3]);

    // Expired 3 s ago but inside the 5 s clock skew: it verifies, then the subscription ends on expiry.
    const shortLived = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -3 });
    const forever = makeExecutableSchema({
      typeDefs: [clerkDirectiveTypeDefs, 'type Query { a: Int } type Subscription { ticks: Int! @auth }'],
      resolvers: {
        Subscription: {
          ticks: {
            subscribe: async function* () {
              yield 1;
              await new Promise(() => {});
            },
            resolve: (tick: number) => tick,
          },
        },
      },
    });
    const endless = (await subscribe({
      schema: clerkDirectiveTransformer(forever),
      document: parse('subscription { ticks }'),
      contextValue: await context(shortLived),
    })) as AsyncIterable<ExecutionResult>;
    const results: ExecutionResult[] = [];
    for await (const result of endless) results.push(result);
    expect(results[0]?.data).toEqual({ ticks: 1 });
    expect(results.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
  });
});
