/**
 * A denial's cost is bounded whatever the number of aliases: `{ a0: secret a1: secret … a4999: secret }`
 * from an anonymous caller must not answer 5,000 errors. The design (src/graphql/errors.ts,
 * `MAX_DENIAL_ERRORS`): the first 20 denied field nodes of an operation get an error each, located
 * at the node, with the path of the nulled field; past that, one error per cause (code and message),
 * raised at the first further node and marked `extensions.truncated: true`, stands for them all.
 * Every denied node is still null, a denied non-null field still propagates null, and every error
 * with a path points at a field that is null in `data` (or under a parent nulled by propagation).
 * A whole rejection lists the first 20 nodes and one summary per cause with `extensions.omitted`.
 *
 * Runs on graphql 16 and 17, with useClerk (Yoga, real loopback HTTP) and with clerkDirectiveTransformer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, useClerk } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { gql, listen, MEMBER, type GraphQLResponse } from './helpers.js';

const MAX = 20;
const ALIASES = 5000;

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
const closers: Array<() => Promise<void>> = [];
const ran = { secret: 0, strict: 0, mutation: 0, admin: 0 };
const urls = { partial: '', strict: '', plain: '' };

const TYPE_DEFS = /* GraphQL */ `
  type Holder {
    strict: String! @auth
    open: String
  }
  type Query {
    health: String
    secret: String @auth
    admin: String @hasRole(role: "org:admin")
    holder: Holder
    holders: [Holder]
  }
  type Mutation {
    guarded: Boolean @auth
  }
`;
const PLAIN_TYPE_DEFS = TYPE_DEFS.replace(/ @auth| @hasRole\(role: "org:admin"\)/g, '');

const resolvers = {
  Query: {
    health: () => 'ok',
    secret: () => {
      ran.secret++;
      return null;
    },
    admin: () => {
      ran.admin++;
      return 'ADMIN';
    },
    holder: () => ({}),
    holders: () => [{}, {}, {}],
  },
  Holder: {
    strict: () => {
      ran.strict++;
      return 'STRICT';
    },
    open: () => 'open',
  },
  Mutation: {
    guarded: () => {
      ran.mutation++;
      return true;
    },
  },
};

const aliases = (count: number, field: string, prefix = 'a') => Array.from({ length: count }, (_, i) => `${prefix}${i}: ${field}`).join(' ');

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  const schema = () => createSchema({ typeDefs: [clerkDirectiveTypeDefs, TYPE_DEFS], resolvers });
  const partialYoga = createYoga({ schema: schema(), plugins: [useClerk(clerkAuth)], logging: false });
  const strictYoga = createYoga({ schema: schema(), plugins: [useClerk({ clerkAuth, rejectUnauthorized: true })], logging: false });
  // The same schema without the plugin or the directives, the field simply returning null: the baseline.
  const nullResolvers = { ...resolvers, Query: { ...resolvers.Query, secret: () => null } };
  const plainYoga = createYoga({ schema: createSchema({ typeDefs: PLAIN_TYPE_DEFS, resolvers: nullResolvers }), logging: false });
  const partial = await listen(partialYoga);
  const strict = await listen(strictYoga);
  const plain = await listen(plainYoga);
  closers.push(partial.close, strict.close, plain.close);
  urls.partial = partial.url;
  urls.strict = strict.url;
  urls.plain = plain.url;
});

afterAll(async () => {
  for (const close of closers) await close();
});

type Errors = NonNullable<GraphQLResponse['body']['errors']>;

/** Whether `path` leads to null in `data`: the field itself, or a parent nulled by propagation. */
function pointsAtNull(data: unknown, path: ReadonlyArray<string | number>): boolean {
  let current: unknown = data;
  for (const key of path) {
    if (current === null) return true;
    if (typeof current !== 'object' || current === undefined) return false;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current === null;
}

/** Checks the bounded-error design on one partial-data answer. */
function expectBoundedPartial(data: unknown, errors: Errors, firstPaths: Array<Array<string | number>>, code = 'UNAUTHENTICATED'): void {
  expect(errors).toHaveLength(MAX + 1);
  expect(errors.map((error) => error.path)).toEqual([...firstPaths.slice(0, MAX + 1)]);
  for (const error of errors) {
    expect(error.extensions?.code).toBe(code);
    expect(Array.isArray(error.locations)).toBe(true);
    expect(pointsAtNull(data, error.path ?? [])).toBe(true);
  }
  expect(errors.slice(0, MAX).every((error) => error.extensions?.truncated === undefined)).toBe(true);
  expect(errors[MAX]?.extensions?.truncated).toBe(true);
  expect(errors[MAX]?.message).toMatch(/Further fields denied for the same reason are null/);
}

describe(`useClerk: ${ALIASES} aliases of one denied field`, () => {
  const query = `{ health ${aliases(ALIASES, 'secret')} }`;

  it('partial data: every alias null, 21 errors, response within a small factor of Yoga without the plugin', async () => {
    const before = ran.secret;
    const response = await gql(urls.partial, query);
    expect(response.status).toBe(200);
    const data = response.body.data as Record<string, unknown>;
    expect(data.health).toBe('ok');
    expect(Object.keys(data)).toHaveLength(ALIASES + 1);
    for (let i = 0; i < ALIASES; i++) expect(data[`a${i}`]).toBeNull();
    expectBoundedPartial(
      data,
      response.body.errors ?? [],
      Array.from({ length: MAX + 1 }, (_, i) => [`a${i}`]),
    );
    expect(ran.secret).toBe(before);

    const baseline = await gql(urls.plain, query);
    expect(baseline.body.errors).toBeUndefined();
    const bytes = JSON.stringify(response.body).length;
    const baselineBytes = JSON.stringify(baseline.body).length;
    // 21 errors (~5 KB) on top of the nulls the baseline answers too.
    expect(bytes).toBeLessThan(baselineBytes + 8_000);
    expect(bytes).toBeLessThan(baselineBytes * 1.2);
  });

  it('rejectUnauthorized: 401, the first 20 nodes and one summary counting the rest', async () => {
    const before = ran.secret;
    const response = await gql(urls.strict, query);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body.data).toBeUndefined();
    const errors = response.body.errors ?? [];
    expect(errors).toHaveLength(MAX + 1);
    expect(errors.every((error) => error.extensions?.code === 'UNAUTHENTICATED' && error.path === undefined)).toBe(true);
    expect(errors[MAX]?.extensions).toMatchObject({ truncated: true, omitted: ALIASES - MAX });
    expect(errors[MAX]?.message).toMatch(new RegExp(`${ALIASES - MAX} more selected fields are denied`));
    expect(ran.secret).toBe(before);
  });

  it('a mutation: 401 before any resolver, bounded the same way', async () => {
    const before = ran.mutation;
    const response = await gql(urls.partial, `mutation { ${aliases(ALIASES, 'guarded')} }`);
    expect(response.status).toBe(401);
    expect(response.body.errors).toHaveLength(MAX + 1);
    expect(response.body.errors?.[MAX]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', truncated: true, omitted: ALIASES - MAX });
    expect(ran.mutation).toBe(before);
  });

  it('one summary per cause: FORBIDDEN and UNAUTHENTICATED past the budget are summarised apart', async () => {
    const member = await issuer.sessionToken({ ...MEMBER, expiresInSeconds: 600 });
    // Signed in without the role: `admin` is FORBIDDEN; `secret` (@auth) is allowed.
    const forbidden = await gql(urls.partial, `{ ${aliases(100, 'admin', 'f')} ${aliases(100, 'secret', 's')} }`, { token: member });
    expect(forbidden.status).toBe(200);
    expect(forbidden.body.errors).toHaveLength(MAX + 1);
    expect(forbidden.body.errors?.every((error) => error.extensions?.code === 'FORBIDDEN')).toBe(true);
    const data = forbidden.body.data as Record<string, unknown>;
    expect(data.f99).toBeNull();
    expect(data.s99).toBeNull(); // secret's resolver returns null; it ran for a signed-in caller
    expect(ran.admin).toBe(0);
  });

  it('a denied non-null field past the budget still propagates null', async () => {
    const before = ran.strict;
    const response = await gql(urls.partial, `{ health ${aliases(MAX, 'secret')} holder { open strict } holders { strict } }`);
    expect(response.status).toBe(200);
    const data = response.body.data as Record<string, unknown>;
    // Holder.strict is non-null: `holder` and each `holders` item are null by propagation.
    expect(data.holder).toBeNull();
    expect(data.holders).toEqual([null, null, null]);
    const errors = response.body.errors ?? [];
    expect(errors).toHaveLength(MAX + 1);
    expect(errors[MAX]).toMatchObject({ path: ['holder', 'strict'], extensions: { code: 'UNAUTHENTICATED', truncated: true } });
    for (const error of errors) expect(pointsAtNull(data, error.path ?? [])).toBe(true);
    expect(ran.strict).toBe(before);
  });

  it('an ordinary operation still gets one error per denied field node', async () => {
    const response = await gql(urls.partial, `{ health ${aliases(MAX, 'secret')} }`);
    expect(response.body.errors).toHaveLength(MAX);
    expect(response.body.errors?.every((error) => error.extensions?.truncated === undefined)).toBe(true);
  });
});

describe(`clerkDirectiveTransformer: ${ALIASES} aliases of one denied field on a plain graphql() call`, () => {
  let schema: ReturnType<typeof clerkDirectiveTransformer>;
  let context: ReturnType<typeof createClerkGraphQLContext>;

  beforeAll(() => {
    schema = clerkDirectiveTransformer(createSchema({ typeDefs: [clerkDirectiveTypeDefs, TYPE_DEFS], resolvers }));
    context = createClerkGraphQLContext(clerkAuth);
  });

  const run = async (source: string): Promise<ExecutionResult> => graphql({ schema, source, contextValue: await context(null) });
  const plainErrors = (result: ExecutionResult): Errors => JSON.parse(JSON.stringify(result.errors ?? [])) as Errors;

  it('partial data: every alias null, 21 errors', async () => {
    const before = ran.secret;
    const result = await run(`{ health ${aliases(ALIASES, 'secret')} }`);
    const data = result.data as Record<string, unknown>;
    expect(data.health).toBe('ok');
    for (let i = 0; i < ALIASES; i++) expect(data[`a${i}`]).toBeNull();
    expectBoundedPartial(
      data,
      plainErrors(result),
      Array.from({ length: MAX + 1 }, (_, i) => [`a${i}`]),
    );
    expect(ran.secret).toBe(before);
  });

  it('a rejected mutation with 5000 root fields is one error with the HTTP 401 metadata', async () => {
    const before = ran.mutation;
    const result = await run(`mutation { ${aliases(ALIASES, 'guarded')} }`);
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.path).toEqual(['a0']);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true);
    expect(ran.mutation).toBe(before);
  });

  it('a denied non-null field past the budget still propagates null', async () => {
    const result = await run(`{ health ${aliases(MAX, 'secret')} holder { open strict } }`);
    const data = result.data as Record<string, unknown>;
    expect(data.holder).toBeNull();
    const errors = plainErrors(result);
    expect(errors).toHaveLength(MAX + 1);
    expect(errors[MAX]).toMatchObject({ path: ['holder', 'strict'], extensions: { truncated: true } });
    for (const error of errors) expect(pointsAtNull(data, error.path ?? [])).toBe(true);
  });
});
