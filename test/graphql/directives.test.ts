/**
 * The directives under useClerk, over real loopback HTTP with real tokens: every way to reach a
 * guarded field (alias, fragments, nesting, interface, union, extend type, mutation result,
 * subscription, @skip/@include with variables), partial data vs whole rejection, and error counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { ClerkAuthConfigError, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTypeDefs, useClerk } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { createResolvers, fixtureTypeDefs, newCounters, SECRET, type Counters } from './fixtures.js';
import { ADMIN, ALICE, codes, gql, listen, MEMBER, nextEvent, sse } from './helpers.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let counters: Counters;
let url: string;
let strictUrl: string;
const closers: Array<() => Promise<void>> = [];
let alice = '';
let admin = '';
let member = '';
let owner = '';

function yogaFor(options: { rejectUnauthorized?: boolean } = {}) {
  return createYoga({
    schema: createSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters) }),
    plugins: [useClerk({ clerkAuth, ...options })],
    logging: false,
  });
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  counters = newCounters();
  const served = await listen(yogaFor());
  const strict = await listen(yogaFor({ rejectUnauthorized: true }));
  closers.push(served.close, strict.close);
  url = served.url;
  strictUrl = strict.url;
  alice = await issuer.sessionToken({ ...ALICE, expiresInSeconds: 600 });
  admin = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: 600 });
  member = await issuer.sessionToken({ ...MEMBER, expiresInSeconds: 600 });
  owner = await issuer.sessionToken({ userId: 'user_owner', org: { id: 'org_1', role: 'owner' }, expiresInSeconds: 600 });
});

afterAll(async () => {
  for (const close of closers) await close();
});

describe('no bypass: a guarded field stays guarded however it is reached', () => {
  const attempts: Array<[string, string, Record<string, unknown>?]> = [
    ['direct', '{ notes { text } }'],
    ['aliases', '{ n: notes { t: text } }'],
    ['named fragment', '{ notes { ...F } } fragment F on Note { text }'],
    ['inline fragment', '{ notes { ... on Note { text } } }'],
    ['nested', '{ holder { note { text } } }'],
    ['fragment chain', '{ ...Q } fragment Q on Query { holder { ...H } } fragment H on Holder { note { ... on Note { text } } }'],
    ['interface', '{ node(id: "note_1") { id ... on Note { text } } }'],
    ['interface fragment on the interface', '{ node(id: "note_1") { ... on Node { id } } }'],
    ['union', '{ search { ... on Note { text } ... on Public { name } } }'],
    ['union through an interface fragment', '{ search { ... on Node { id } } }'],
    ['field added by extend type', '{ notes { extra } }'],
    ['interface-level directive on an implementation', '{ doc { secret title } }'],
    ['interface-level directive through the interface', '{ secretive { secret } }'],
    ['@include with a variable', 'query ($show: Boolean!) { notes @include(if: $show) { text } }', { show: true }],
    ['@skip with a variable', 'query ($hide: Boolean!) { notes @skip(if: $hide) { text } }', { hide: false }],
    ['@include with a default value', 'query ($show: Boolean = true) { notes @include(if: $show) { text } }'],
    ['@include with a variable that does not coerce', 'query ($show: Boolean!) { health notes @include(if: $show) { text } }', { show: 'yes' }],
    ['same field twice', '{ notes { text ... on Note { text } } a: notes { text } }'],
  ];

  for (const [name, query, variables] of attempts) {
    it(`${name}: anonymous gets no guarded data`, async () => {
      const response = await gql(url, query, variables ? { variables } : {});
      const body = JSON.stringify(response.body);
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain('note_1');
      expect(body).not.toContain('DOC_TITLE_SECRET');
      // Every error is an auth error, or the executor's own refusal of a variable that does not coerce.
      expect(response.body.errors?.length ?? 0).toBeGreaterThan(0);
      for (const error of response.body.errors ?? []) {
        if (error.extensions?.code !== 'UNAUTHENTICATED') expect(error.message).toMatch(/Variable "\$show"/);
      }
      expect([200, 400]).toContain(response.status);
    });
  }

  it('signed in, the same queries answer everything', async () => {
    for (const [, query, variables] of attempts.slice(0, 13)) {
      const response = await gql(url, query, { token: alice, ...(variables && { variables }) });
      expect(response.body.errors).toBeUndefined();
    }
    const union = await gql(url, '{ search { ... on Note { text } ... on Public { name } } }', { token: alice });
    expect(union.body.data).toEqual({ search: [{ text: SECRET }, { name: 'PUBLIC_NAME' }, { text: SECRET }] });
  });

  it('a union keeps its public members for anonymous callers', async () => {
    const response = await gql(url, '{ search { ... on Note { text } ... on Public { name } } }');
    // Note.text is non-null: each Note item is nulled, and `search` ([SearchResult!]!) propagates to data.
    expect(response.body.data).toBeNull();
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    const nullable = await gql(url, '{ holder { note { text } public { name } } }');
    expect(nullable.body.data).toEqual({ holder: { note: null, public: { name: 'PUBLIC_NAME' } } });
    expect(nullable.body.errors?.[0]?.path).toEqual(['holder', 'note', 'text']);
  });

  it('an interface field is decided per runtime type, at resolution, only where a rule applies', async () => {
    const response = await gql(url, '{ a: node(id: "note_1") { id } b: node(id: "public_1") { id ... on Public { name } } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ a: null, b: { id: 'public_1', name: 'PUBLIC_NAME' } });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({ path: ['a', 'id'], extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('@skip/@include that leave the guarded field out cost nothing', async () => {
    for (const [query, variables] of [
      ['query ($show: Boolean!) { health notes @include(if: $show) { text } }', { show: false }],
      ['query ($hide: Boolean!) { health notes @skip(if: $hide) { text } }', { hide: true }],
      ['query ($hide: Boolean = true) { health ... @skip(if: $hide) { notes { text } } }', {}],
    ] as const) {
      const response = await gql(url, query, { variables });
      expect(response.body).toEqual({ data: { health: 'ok' } });
    }
  });

  it('__typename and introspection stay answerable', async () => {
    const typename = await gql(url, '{ node(id: "note_1") { __typename } }');
    expect(typename.body).toEqual({ data: { node: { __typename: 'Note' } } });
    const introspection = await gql(url, '{ __type(name: "Note") { fields { name } } __schema { queryType { name } } }');
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data?.__type).toEqual({ fields: [{ name: 'id' }, { name: 'text' }, { name: 'extra' }] });
  });
});

describe('one error per denied field node, never per list item', () => {
  it('1000 items × 5 nullable guarded fields: 5 errors, every value null', async () => {
    const response = await gql(url, '{ items { id a b c d e } }');
    expect(response.status).toBe(200);
    expect(response.body.errors?.length).toBeLessThanOrEqual(5);
    expect(codes(response).every((code) => code === 'UNAUTHENTICATED')).toBe(true);
    const items = response.body.data?.items as Array<Record<string, unknown>>;
    expect(items).toHaveLength(1000);
    expect(items.every((item) => item.a === null && item.b === null && item.c === null && item.d === null && item.e === null)).toBe(true);
    expect(items[999]?.id).toBe('i999');
  });

  it('1000 items × 5 non-null guarded fields: each item nulled by propagation, still at most 5 errors', async () => {
    const response = await gql(url, '{ strictItems { id a b c d e } }');
    expect(response.status).toBe(200);
    expect(response.body.errors?.length).toBeGreaterThan(0);
    expect(response.body.errors?.length).toBeLessThanOrEqual(5);
    const items = response.body.data?.strictItems as unknown[];
    expect(items).toHaveLength(1000);
    expect(items.every((item) => item === null)).toBe(true);
  });

  it('signed in: the full list, no error', async () => {
    const response = await gql(url, '{ items { id a b c d e } strictItems { e } }', { token: alice });
    expect(response.body.errors).toBeUndefined();
    expect((response.body.data?.items as unknown[]).length).toBe(1000);
  });
});

describe('roles and permissions', () => {
  it('@hasRole takes any of a list; missing it is FORBIDDEN at the field, HTTP 200', async () => {
    expect((await gql(url, '{ admin }', { token: admin })).body).toEqual({ data: { admin: 'admin-data' } });
    expect((await gql(url, '{ admin }', { token: owner })).body).toEqual({ data: { admin: 'admin-data' } });
    const denied = await gql(url, '{ health admin }', { token: member });
    expect(denied.status).toBe(200);
    expect(denied.body.data).toEqual({ health: 'ok', admin: null });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
  });

  it('@hasPermission', async () => {
    expect((await gql(url, '{ perm }', { token: admin })).body).toEqual({ data: { perm: 'perm-data' } });
    expect(codes(await gql(url, '{ perm }', { token: member }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(url, '{ perm }'))).toEqual(['UNAUTHENTICATED']);
  });

  it('a denied non-null root field nulls data (spec null propagation)', async () => {
    const response = await gql(url, '{ health strictAdmin }', { token: member });
    expect(response.status).toBe(200);
    expect(response.body.data).toBeNull();
    expect(codes(response)).toEqual(['FORBIDDEN']);
  });
});

describe('mutations are all or nothing', () => {
  it('a guarded type in the result rejects the mutation before its resolver runs', async () => {
    const before = counters.touchNote;
    for (const query of [
      'mutation { touchNote { id } }',
      'mutation { touchNote { ... on Node { id } } }',
      'mutation { ...M } fragment M on Mutation { x: touchNote { text } }',
    ]) {
      const response = await gql(url, query);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body.data).toBeUndefined();
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    }
    expect(counters.touchNote).toBe(before);
  });

  it('one denied root field rejects the whole mutation, allowed fields included (403 when signed in)', async () => {
    const before = { ...counters };
    const response = await gql(url, 'mutation { touchPublic { id } adminOnly }', { token: member });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(counters.touchPublic).toBe(before.touchPublic);
    expect(counters.adminOnly).toBe(before.adminOnly);
  });

  it('one error per denied field node in a whole rejection', async () => {
    const response = await gql(url, 'mutation { a: touchNote { id text } b: touchNote { id } }');
    expect(response.status).toBe(401);
    expect(response.body.errors).toHaveLength(3);
    expect(response.body.errors?.every((error) => Array.isArray(error.locations))).toBe(true);
  });

  it('allowed mutations run; a narrowed interface fragment is not mistaken for a guarded type', async () => {
    const before = counters.touchPublic;
    const response = await gql(url, 'mutation { touchPublic { ... on Node { id } } }');
    expect(response.body).toEqual({ data: { touchPublic: { id: 'public_1' } } });
    const typename = await gql(url, 'mutation { touchPublic { __typename } }');
    expect(typename.status).toBe(200);
    expect(counters.touchPublic).toBe(before + 2);
    expect((await gql(url, 'mutation { adminOnly }', { token: admin })).body).toEqual({ data: { adminOnly: true } });
  });
});

describe('subscriptions are all or nothing', () => {
  it('anonymous: 401 before subscribe runs, for a guarded field or a guarded type in the result', async () => {
    const before = counters.subscribed;
    for (const query of ['subscription { ticks }', 'subscription { noteFeed { id } }']) {
      const stream = await sse(url, query);
      expect(stream.status).toBe(401);
      expect((await nextEvent(stream.events)).payload?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      stream.close();
    }
    expect(counters.subscribed).toBe(before);
  });

  it('signed in: events flow; public subscriptions work for anyone', async () => {
    const stream = await sse(url, 'subscription { ticks }', alice);
    expect(stream.status).toBe(200);
    const ticks: unknown[] = [];
    for (let event = await nextEvent(stream.events); event.event === 'next'; event = await nextEvent(stream.events)) ticks.push(event.payload?.data?.ticks);
    expect(ticks).toEqual([1, 2, 3]);
    const open = await sse(url, 'subscription { publicTicks }');
    expect((await nextEvent(open.events)).payload).toEqual({ data: { publicTicks: 1 } });
    open.close();
  });
});

describe('a presented token that fails verification', () => {
  it('public-only operations still answer; anything guarded (even possibly, through an interface) is 401 invalid_token', async () => {
    const expired = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: -60 });
    expect((await gql(url, '{ health }', { token: expired })).body).toEqual({ data: { health: 'ok' } });
    for (const query of ['{ health notes { id } }', '{ node(id: "public_1") { id } }', '{ items { a } }']) {
      const response = await gql(url, query, { token: expired });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
      expect(response.body.data).toBeUndefined();
    }
  });
});

describe('rejectUnauthorized: true', () => {
  it('rejects the whole query instead of nulling fields: 401 signed out, 403 without the role', async () => {
    const before = counters.resolved;
    const anonymous = await gql(strictUrl, '{ health notes { text } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.data).toBeUndefined();
    expect(counters.resolved).toBe(before);
    const forbidden = await gql(strictUrl, '{ health admin }', { token: member });
    expect(forbidden.status).toBe(403);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    expect((await gql(strictUrl, '{ health admin }', { token: admin })).body).toEqual({ data: { health: 'ok', admin: 'admin-data' } });
  });
});

describe('code-first rules (extensions.clerk) and machine tokens', () => {
  it('applies extensions.clerk like a directive, including machine-token kinds', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          report: { type: GraphQLString, resolve: () => 'report', extensions: { clerk: { permission: 'org:notes:read' } } },
          machinePing: { type: GraphQLString, resolve: () => 'pong', extensions: { clerk: { token: 'm2m_token' } } },
          signedIn: { type: GraphQLString, resolve: () => 'yes', extensions: { clerk: true } },
          open: { type: GraphQLString, resolve: () => 'open' },
        },
      }),
    });
    const served = await listen(createYoga({ schema, plugins: [useClerk(clerkAuth)], logging: false }));
    closers.push(served.close);
    const m2m = await issuer.m2mToken();
    expect((await gql(served.url, '{ report signedIn }', { token: admin })).body).toEqual({ data: { report: 'report', signedIn: 'yes' } });
    expect(codes(await gql(served.url, '{ report }', { token: member }))).toEqual(['FORBIDDEN']);
    expect((await gql(served.url, '{ machinePing }', { token: m2m })).body).toEqual({ data: { machinePing: 'pong' } });
    const sessionOnMachine = await gql(served.url, '{ open machinePing }', { token: alice });
    expect(sessionOnMachine.status).toBe(401);
    const machineOnSession = await gql(served.url, '{ open signedIn }', { token: m2m });
    expect(machineOnSession.status).toBe(401);
    expect((await gql(served.url, '{ open }', { token: m2m })).body).toEqual({ data: { open: 'open' } });
  });
});

describe('getCredential', () => {
  it('reads the credential where the app keeps it', async () => {
    const served = await listen(
      createYoga({
        schema: createSchema({ typeDefs: fixtureTypeDefs, resolvers: createResolvers(counters, 1) }),
        plugins: [useClerk({ clerkAuth, getCredential: (context) => (context.request as Request).headers.get('x-session') })],
        logging: false,
      }),
    );
    closers.push(served.close);
    expect((await gql(served.url, '{ admin }', { headers: { 'x-session': admin } })).body).toEqual({ data: { admin: 'admin-data' } });
    expect(codes(await gql(served.url, '{ admin }', { token: admin }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('configuration is checked when the server is built', () => {
  it('refuses a foreign @auth definition and malformed rules, naming the fix', () => {
    const build = (typeDefs: string[]) => () =>
      createYoga({ schema: createSchema({ typeDefs }), plugins: [useClerk(clerkAuth)], logging: false });
    expect(build(['directive @auth(requires: String) on FIELD_DEFINITION', 'type Query { a: String @auth }'])).toThrow(ClerkAuthConfigError);
    expect(build(['directive @auth(requires: String) on FIELD_DEFINITION', 'type Query { a: String @auth }'])).toThrow(/clerkDirectiveTypeDefs/);
    expect(build([clerkDirectiveTypeDefs, 'type Query { a: String @hasRole(role: []) }'])).toThrow(/Query\.a/);
  });

  it('refuses ambiguous or missing Clerk configuration at construction', () => {
    expect(() => useClerk({ env: {} })).toThrow(ClerkAuthConfigError);
    expect(() => useClerk({ clerkAuth, jwtKey: issuer.jwtKey })).toThrow(/either `clerkAuth` or Clerk options/);
  });
});
