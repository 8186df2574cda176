/**
 * `@skip` / `@include` conditions read through clerkDirectiveTransformer on graphql 16 and 17
 * (runs under both configs). graphql 17 hands resolvers `{ sources, coerced }` where graphql 16 hands
 * the coerced map itself; which one it is must follow graphql's version, never the object's shape: an
 * operation that names its own variables `$coerced` / `$sources` must not make a guarded field look
 * skipped, so a field (or a mutation) that executes is always one the walk decided.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execute, graphql, parse, versionInfo, type ExecutionResult } from 'graphql';
import { createSchema as makeExecutableSchema } from 'graphql-yoga';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let schema: ReturnType<typeof clerkDirectiveTransformer>;
let context: (token?: string) => Promise<ClerkGraphQLContext>;
const ran = { secret: 0, guardedMutation: 0 };

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  schema = clerkDirectiveTransformer(
    makeExecutableSchema({
      typeDefs: [clerkDirectiveTypeDefs, 'type Query { health: String secret: String @auth } type Mutation { guardedMutation: Boolean @auth publicMutation: Boolean }'],
      resolvers: {
        Query: {
          health: () => 'ok',
          secret: () => {
            ran.secret++;
            return 'SECRET_VALUE';
          },
        },
        Mutation: {
          guardedMutation: () => {
            ran.guardedMutation++;
            return true;
          },
          publicMutation: () => true,
        },
      },
    }),
  );
  const build = createClerkGraphQLContext(clerkAuth);
  context = (token) => build(token === undefined ? null : new Request('http://api.test/graphql', { headers: { authorization: `Bearer ${token}` } }));
});

/** A validated `graphql()` call (every declared variable must be used). */
async function run(source: string, variableValues?: Record<string, unknown>, token?: string): Promise<ExecutionResult> {
  return graphql({ schema, source, contextValue: await context(token), ...(variableValues && { variableValues }) });
}

/** `execute` on a parsed document, without validation, as a server that skips it (or a persisted document) would. */
async function exec(source: string, variableValues?: Record<string, unknown>, token?: string): Promise<ExecutionResult> {
  return execute({ schema, document: parse(source), contextValue: await context(token), ...(variableValues && { variableValues }) }) as Promise<ExecutionResult>;
}

const codesOf = (result: ExecutionResult) => (result.errors ?? []).map((error) => error.extensions.code);

it(`runs on graphql ${versionInfo.major}`, () => {
  expect([16, 17]).toContain(versionInfo.major);
});

describe('operations declaring $coerced / $sources', () => {
  const queries: Array<[string, string, Record<string, unknown>?]> = [
    ['@include(if: $coerced), both declared with defaults', 'query ($coerced: Boolean = true, $sources: Boolean = true) { secret @include(if: $coerced) }'],
    [
      'the same, validated (both variables used)',
      'query ($coerced: Boolean = true, $sources: Boolean = true) { health @include(if: $sources) secret @include(if: $coerced) }',
    ],
    [
      '@include(if: $x), default false, sent true, $coerced and $sources declared',
      'query ($coerced: Boolean = false, $sources: Boolean = false, $x: Boolean = false) { health @skip(if: $coerced) h: health @skip(if: $sources) secret @include(if: $x) }',
      { x: true },
    ],
    [
      '@skip(if: $x), default true, sent false, $coerced and $sources sent',
      'query ($coerced: Boolean = true, $sources: Boolean = true, $x: Boolean = true) { health @include(if: $coerced) h: health @include(if: $sources) secret @skip(if: $x) }',
      { x: false, coerced: true, sources: true },
    ],
  ];
  for (const [name, query, variables] of queries) {
    for (const [how, call] of [
      ['graphql()', run],
      ['execute', exec],
    ] as const) {
      it(`${name}: anonymous is denied (UNAUTHENTICATED), the resolver never runs (${how})`, async () => {
        const before = ran.secret;
        const result = await call(query, variables);
        expect(JSON.stringify(result)).not.toContain('SECRET_VALUE');
        if (how === 'graphql()' && query.includes('{ secret @include(if: $coerced) }')) {
          // `$sources` is declared and unused: graphql() refuses the document before execution.
          expect(result.errors?.[0]?.message).toMatch(/"\$sources" is never used/);
        } else {
          expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
          expect(result.data?.secret).toBeNull();
        }
        expect(ran.secret).toBe(before);
      });
    }
  }

  it('a mutation with @include(if: $coerced) is rejected and never runs', async () => {
    const before = ran.guardedMutation;
    for (const [query, variables] of [
      ['mutation ($coerced: Boolean = true) { guardedMutation @include(if: $coerced) }', undefined],
      ['mutation ($coerced: Boolean = true, $sources: Boolean = true) { guardedMutation @include(if: $coerced) publicMutation @include(if: $sources) }', undefined],
      ['mutation ($coerced: Boolean = false, $sources: Boolean = false, $x: Boolean = false) { guardedMutation @include(if: $x) publicMutation @skip(if: $coerced) p: publicMutation @skip(if: $sources) }', { x: true }],
    ] as const) {
      for (const call of [run, exec]) {
        const result = await call(query, variables);
        // Every selected root field fails with the rejection (the transformer rejects at the roots).
        expect(codesOf(result).length).toBeGreaterThan(0);
        expect(new Set(codesOf(result))).toEqual(new Set(['UNAUTHENTICATED']));
        expect(result.errors?.[0]?.extensions).toMatchObject({ http: { status: 401 } });
        expect(result.data?.guardedMutation ?? null).toBeNull();
      }
    }
    expect(ran.guardedMutation).toBe(before);
  });

  it('signed in, the same operations run', async () => {
    const token = await issuer.sessionToken({ userId: 'user_vars', expiresInSeconds: 600 });
    const before = { ...ran };
    expect(await exec('query ($coerced: Boolean = true, $sources: Boolean = true) { secret @include(if: $coerced) }', undefined, token)).toEqual({
      data: { secret: 'SECRET_VALUE' },
    });
    expect(await run('mutation ($coerced: Boolean = true) { guardedMutation @include(if: $coerced) }', undefined, token)).toEqual({ data: { guardedMutation: true } });
    expect(ran).toEqual({ secret: before.secret + 1, guardedMutation: before.guardedMutation + 1 });
  });
});

describe('@skip / @include really apply on this graphql version', () => {
  it('@skip(if: $x) with x true skips the guarded field: no error, no resolver', async () => {
    const before = ran.secret;
    const document = parse('query ($x: Boolean!) { health secret @skip(if: $x) }');
    const result = await execute({ schema, document, contextValue: await context(), variableValues: { x: true } });
    expect(result).toEqual({ data: { health: 'ok' } });
    expect(ran.secret).toBe(before);
  });

  it('@include(if: $x) with x false on a mutation skips it; the rest runs', async () => {
    const before = ran.guardedMutation;
    const result = await run('mutation ($x: Boolean!) { publicMutation guardedMutation @include(if: $x) }', { x: false });
    expect(result).toEqual({ data: { publicMutation: true } });
    expect(ran.guardedMutation).toBe(before);
  });

  it('@skip(if: $x) with x false keeps the field, denied', async () => {
    const result = await run('query ($x: Boolean!) { health secret @skip(if: $x) }', { x: false });
    expect(result.data).toEqual({ health: 'ok', secret: null });
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
  });
});
