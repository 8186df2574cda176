/**
 * Clerk's newest authorization through GraphQL, over real loopback HTTP with real tokens: the
 * reference schema's `reportsExport` (feature `reports`: PAYMENT_REQUIRED) and `rotateKey`
 * (reverification `strict`: 403 with Clerk's hint in `extensions.clerk_error`, and the whole
 * useReverification loop through graphql-request and plain fetch); every requirement the core has
 * written in SDL as `@auth` arguments, enforced; the directive definitions we accept and refuse; and
 * the same answers through `clerkDirectiveTransformer` on plain `graphql()`.
 */
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors';
import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { GraphQLClient } from 'graphql-request';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkReverification, createClerkFetch } from 'clerk-api-auth/client';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type SessionTokenOptions, type TestIssuer } from 'clerk-api-auth/testing';
import { createNotesSchema, typeDefs as referenceTypeDefs } from '../../examples/graphql-yoga/schema.js';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { NotesStore } from '../../examples/shared/notes.js';
import { serve, type Served } from '../../examples/shared/serve.js';
import { reverifying } from '../support/use-reverification.js';
import { ALICE, codes, envFor, gql, WRITER } from './helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: GraphQLServer;
let url: string;
const log: string[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  server = await startGraphQLServer({ port: 0, env: envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }), log: (line) => log.push(line) });
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  await api?.close();
});

const token = (options: SessionTokenOptions) => issuer.sessionToken({ expiresInSeconds: 600, ...options });
const hint = reverificationError('strict').clerk_error;
/** The statuses the access log recorded for POST /graphql since `from`. */
const statusesSince = (from: number) => log.slice(from).map((line) => Number(line.split(' ')[3]));

describe('reportsExport (@auth(feature: "reports"))', () => {
  it('signed out: null with UNAUTHENTICATED, the rest answers (a query keeps its partial data)', async () => {
    const response = await gql(url, '{ health reportsExport }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ health: 'ok', reportsExport: null });
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('signed in without the feature: null with PAYMENT_REQUIRED naming it, at its path', async () => {
    const response = await gql(url, '{ health reportsExport }', { token: await token(ALICE) });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ health: 'ok', reportsExport: null });
    expect(response.body.errors).toHaveLength(1);
    const error = response.body.errors?.[0];
    expect(error?.path).toEqual(['reportsExport']);
    expect(error?.extensions).toEqual({ code: 'PAYMENT_REQUIRED', missing: { feature: ['reports'] } });
    expect(error?.message).toContain('"reports"');
  });

  it('with the feature: the number of the caller’s notes', async () => {
    const writer = await token({ ...WRITER, features: ['reports'] });
    expect((await gql(url, '{ reportsExport }', { token: writer })).body).toEqual({ data: { reportsExport: 0 } });
    await gql(url, 'mutation { createNote(text: "one") { id } }', { token: writer });
    expect((await gql(url, '{ reportsExport }', { token: writer })).body).toEqual({ data: { reportsExport: 1 } });
  });
});

describe('rotateKey (@auth(reverification: strict))', () => {
  it('signed out: 401, rejected whole', async () => {
    const response = await gql(url, 'mutation { rotateKey }');
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('stale verification: 403 rejected whole, with Clerk’s reverification hint in extensions.clerk_error', async () => {
    const response = await gql(url, 'mutation { rotateKey }', { token: await token({ ...ALICE, factorVerificationAge: [30, -1] }) });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', clerk_error: hint });
    expect(isReverificationHint(response.body.errors?.[0]?.extensions)).toBe(true);
    expect(response.body.errors?.[0]?.message).toMatch(/recent reverification/);
  });

  it('fresh verification: true', async () => {
    const response = await gql(url, 'mutation { rotateKey }', { token: await token({ ...ALICE, factorVerificationAge: [0, -1] }) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { rotateKey: true } });
  });

  it('with a permission missing too: 403 speaks for the operation, and only the reverification-only denial carries the hint', async () => {
    const response = await gql(url, 'mutation { createNote(text: "x") { id } rotateKey }', { token: await token({ ...ALICE, factorVerificationAge: [30, -1] }) });
    expect(response.status).toBe(403);
    expect(response.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'FORBIDDEN' }, { code: 'FORBIDDEN', clerk_error: hint }]);
  });

  /** A signed-in tab whose getToken caches, as Clerk's does; `reverify()` is the user verifying again. */
  function tab() {
    let verified = false;
    let cached: string | undefined;
    return {
      reverify() {
        verified = true;
      },
      async getToken(options?: { skipCache?: boolean }): Promise<string> {
        if (options?.skipCache === true || cached === undefined) cached = await token({ ...ALICE, factorVerificationAge: verified ? [0, -1] : [30, -1] });
        return cached;
      },
    };
  }

  it('the useReverification loop through graphql-request: hint → prompt → retried with a fresh token → true', async () => {
    const browser = tab();
    const reverification = clerkReverification({ getToken: browser.getToken });
    const client = new GraphQLClient(url, { fetch: createClerkFetch({ getToken: reverification.getToken }) });
    const prompts: unknown[] = [];
    const from = log.length;
    const rotateKey = reverifying(
      reverification.fetcher(() => client.request<{ rotateKey: boolean }>('mutation { rotateKey }')),
      ({ level, complete }) => {
        prompts.push(level);
        browser.reverify();
        complete();
      },
    );
    expect(await rotateKey()).toEqual({ rotateKey: true });
    expect(prompts).toEqual(['second_factor']);
    expect(statusesSince(from)).toEqual([403, 200]);
  });

  it('the same loop over plain fetch: the Response carrying the hint becomes the hint; the retry’s body is what the hook returns', async () => {
    const browser = tab();
    const reverification = clerkReverification({ getToken: browser.getToken });
    const clerkFetch = createClerkFetch({ getToken: reverification.getToken });
    const from = log.length;
    const rotateKey = reverifying(
      reverification.fetcher(() => clerkFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'mutation { rotateKey }' }) })),
      ({ complete }) => {
        browser.reverify();
        complete();
      },
    );
    expect(await rotateKey()).toEqual({ data: { rotateKey: true } });
    expect(statusesSince(from)).toEqual([403, 200]);
  });
});

describe('every requirement the core has, as @auth arguments', () => {
  let clerkAuth: ClerkAuth;
  let served: Served;
  let sdlUrl: string;

  const sdl = /* GraphQL */ `
    type Query {
      signedIn: String @auth
      feature: String @auth(feature: "reports")
      plan: String @auth(plan: ["pro", "team"])
      reverified: String @auth(reverification: strict)
      window: String @auth(reverifiedWithin: { level: first_factor, afterMinutes: 5 })
      org: String @auth(organization: true)
      notOrg: String @auth(organization: false)
      role: String @auth(role: "org:admin")
      permission: String @auth(permission: "org:notes:create")
      appRole: String @auth(appRole: "editor")
      machine: String @auth(token: m2m_token, scope: "mch_reports")
      anyKind: String @auth(token: any)
      keyOrSession: String @auth(token: [session_token, api_key])
      orgKey: String @auth(token: api_key, organization: true)
      both: String @auth(role: "org:admin", feature: "reports")
    }
  `;
  const FIELDS = ['signedIn', 'feature', 'plan', 'reverified', 'window', 'org', 'notOrg', 'role', 'permission', 'appRole', 'machine', 'anyKind', 'keyOrSession', 'orgKey', 'both'] as const;
  /** What a session can be asked for (a token of another kind than a field accepts rejects the whole operation: 401). */
  const SESSION_FIELDS = FIELDS.filter((field) => field !== 'machine' && field !== 'orgKey');

  beforeAll(async () => {
    clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    const yoga = createYoga<object, ClerkGraphQLContext>({
      schema: createSchema({ typeDefs: [clerkDirectiveTypeDefs, sdl], resolvers: { Query: Object.fromEntries(FIELDS.map((field) => [field, () => field])) } }),
      plugins: [useClerk(clerkAuth)],
      logging: false,
      maskedErrors: false,
    });
    served = await serve((request) => yoga.fetch(request), { port: 0, host: '127.0.0.1', name: 'sdl', log: () => {} });
    sdlUrl = `${served.url}/graphql`;
  });

  afterAll(async () => {
    await served?.close();
  });

  /** Each field's answer for one caller: its value, or the code of its error. */
  async function answers(credential: string | undefined, fields: readonly string[] = SESSION_FIELDS): Promise<Record<string, unknown>> {
    const response = await gql(sdlUrl, `{ ${fields.join(' ')} }`, credential === undefined ? {} : { token: credential });
    expect(response.status).toBe(200);
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const error = response.body.errors?.find((candidate) => candidate.path?.[0] === field);
      out[field] = error === undefined ? response.body.data?.[field] : error.extensions?.code;
    }
    return out;
  }

  it('a member on a personal plan, verified long ago: each requirement answers with its own code', async () => {
    const member = await token({ userId: 'user_m', factorVerificationAge: [30, -1] });
    expect(await answers(member)).toEqual({
      signedIn: 'signedIn',
      feature: 'PAYMENT_REQUIRED',
      plan: 'PAYMENT_REQUIRED',
      reverified: 'FORBIDDEN',
      window: 'FORBIDDEN',
      org: 'FORBIDDEN',
      notOrg: 'notOrg',
      role: 'FORBIDDEN',
      permission: 'FORBIDDEN',
      appRole: 'FORBIDDEN',
      anyKind: 'anyKind',
      keyOrSession: 'keyOrSession',
      both: 'FORBIDDEN',
    });
  });

  it('signed out: UNAUTHENTICATED on every guarded field, machine ones included', async () => {
    const anonymous = await answers(undefined, FIELDS);
    expect(new Set(Object.values(anonymous))).toEqual(new Set(['UNAUTHENTICATED']));
  });

  it('a session token where only machine tokens count rejects the whole operation with 401 token-type-mismatch', async () => {
    const response = await gql(sdlUrl, '{ signedIn machine }', { token: await token({ userId: 'user_m' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-type-mismatch"');
  });

  it('an admin of an organization with every entitlement, just verified: everything a session can have', async () => {
    const admin = await token({
      userId: 'user_a',
      org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] },
      features: ['reports'],
      plans: ['u:team'],
      factorVerificationAge: [0, -1],
      claims: { metadata: { role: 'editor' } },
    });
    expect(await answers(admin)).toEqual(Object.fromEntries(SESSION_FIELDS.map((field) => [field, field])));
  });

  it('machine tokens: the M2M token with the scope, an organization’s API key', async () => {
    expect(await answers(await issuer.m2mToken({ machineId: 'mch_1', scopes: ['mch_reports'] }), ['machine', 'anyKind'])).toEqual({ machine: 'machine', anyKind: 'anyKind' });
    expect(await answers(await issuer.m2mToken({ machineId: 'mch_1', scopes: ['other'] }), ['machine'])).toEqual({ machine: 'FORBIDDEN' });
    expect(await answers(issuer.apiKey({ subject: 'org_1' }).token, ['orgKey', 'keyOrSession', 'anyKind'])).toEqual({ orgKey: 'orgKey', keyOrSession: 'keyOrSession', anyKind: 'anyKind' });
    expect(await answers(issuer.apiKey({ subject: 'user_1' }).token, ['orgKey'])).toEqual({ orgKey: 'FORBIDDEN' });
  });

  it('the reverification hint carries the window as written in SDL', async () => {
    const response = await gql(sdlUrl, '{ window }', { token: await token({ userId: 'user_m', factorVerificationAge: [6, -1] }) });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'FORBIDDEN',
      clerk_error: { type: 'forbidden', reason: 'reverification-error', metadata: { reverification: { level: 'first_factor', afterMinutes: 5 } } },
    });
  });

  it('graphql-tools’ extensions.directives conventions are read too', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          report: { type: GraphQLString, resolve: () => 'r', extensions: { directives: { auth: { feature: 'reports' } } } },
          rotate: { type: GraphQLString, resolve: () => 'k', extensions: { directives: { auth: [{ reverification: 'strict' }] } } },
        },
      }),
    });
    const guarded = clerkDirectiveTransformer(schema);
    const contextValue = await createClerkGraphQLContext(clerkAuth)(new Request('http://api.test/graphql', { headers: { authorization: `Bearer ${await token({ userId: 'user_m', factorVerificationAge: [30, -1] })}` } }));
    const result = await graphql({ schema: guarded, source: '{ report rotate }', contextValue });
    expect(result.data).toEqual({ report: null, rotate: null });
    expect(result.errors?.map((error) => error.extensions)).toEqual([{ code: 'PAYMENT_REQUIRED', missing: { feature: ['reports'] } }, { code: 'FORBIDDEN', clerk_error: hint }]);
  });
});

describe('clerkDirectiveTransformer on the reference schema', () => {
  it('answers rotateKey and reportsExport as Yoga does: the hint and PAYMENT_REQUIRED, no resolver run when rejected', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const store = new NotesStore();
    const schema = clerkDirectiveTransformer(createNotesSchema(store));
    const build = createClerkGraphQLContext(clerkAuth);
    const contextFor = async (claims: SessionTokenOptions) =>
      build(new Request('http://api.test/graphql', { headers: { authorization: `Bearer ${await token(claims)}` } }));
    const rejected = await graphql({ schema, source: 'mutation { rotateKey }', contextValue: await contextFor({ ...ALICE, factorVerificationAge: [30, -1] }) });
    expect(rejected.data ?? null).toBeNull();
    expect(rejected.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', clerk_error: hint, http: { status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } } });
    const partial = await graphql({ schema, source: '{ health reportsExport }', contextValue: await contextFor(ALICE) });
    expect(partial.data).toEqual({ health: 'ok', reportsExport: null });
    expect(partial.errors?.[0]?.extensions).toEqual({ code: 'PAYMENT_REQUIRED', missing: { feature: ['reports'] } });
  });
});

describe('directive definitions: ours (also as earlier versions wrote them) or refused', () => {
  const build = (typeDefs: string[]) => () => createYoga({ schema: createSchema({ typeDefs }), plugins: [useClerk(createClerkAuth({ env: {}, jwtKey: issuer.jwtKey }))], logging: false });

  it('accepts the argument-less @auth of earlier versions, and an @auth declaring some of our arguments', () => {
    const old = 'directive @auth on OBJECT | INTERFACE | FIELD_DEFINITION\ndirective @hasRole(role: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION';
    expect(build([old, 'type Query { a: String @auth b: String @hasRole(role: "org:admin") }'])).not.toThrow();
    const some = 'directive @auth(feature: [String!], plan: [String!]) on OBJECT | INTERFACE | FIELD_DEFINITION';
    expect(build([some, 'type Query { a: String @auth(feature: "reports") }'])).not.toThrow();
  });

  it('refuses an @auth whose argument has another type, and our enums defined differently, naming the fix', () => {
    const otherType = build(['directive @auth(feature: String) on OBJECT | INTERFACE | FIELD_DEFINITION', 'type Query { a: String @auth(feature: "x") }']);
    expect(otherType).toThrow(ClerkAuthConfigError);
    expect(otherType).toThrow(/clerkDirectiveTypeDefs/);
    const otherEnum = build([
      'enum ClerkTokenKind { session_token root }',
      'directive @auth(token: [ClerkTokenKind!]) on OBJECT | INTERFACE | FIELD_DEFINITION',
      'type Query { a: String @auth(token: root) }',
    ]);
    expect(otherEnum).toThrow(/ClerkTokenKind differently/);
    expect(build(['directive @auth(requires: String) on FIELD_DEFINITION', 'type Query { a: String @auth }'])).toThrow(/clerkDirectiveTypeDefs/);
  });

  it('refuses malformed uses when the schema is loaded, naming the field and the fix', () => {
    const use = (field: string) => build([clerkDirectiveTypeDefs, `type Query { a: String ${field} }`]);
    expect(use('@auth(reverification: strict, reverifiedWithin: { level: first_factor, afterMinutes: 5 })')).toThrow(/both `reverification` and `reverifiedWithin`/);
    expect(use('@auth(reverifiedWithin: { level: first_factor, afterMinutes: 0 })')).toThrow(/`reverification` in @auth on Query\.a/);
    expect(use('@auth(token: m2m_token, organization: true)')).toThrow(/can never hold/);
    expect(use('@auth(token: [any, m2m_token])')).toThrow(/`token` in @auth on Query\.a/);
    expect(use('@auth(feature: [])')).toThrow(/`feature` in @auth on Query\.a/);
    expect(use('@auth(role: "")')).toThrow(ClerkAuthConfigError);
  });

  it('the reference schema builds with the directive SDL, as every GraphQL server of the app builds it', () => {
    expect(build([clerkDirectiveTypeDefs, referenceTypeDefs])).not.toThrow();
  });
});
