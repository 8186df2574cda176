/**
 * clerk-api-auth/mercurius beyond the reference app: configuration checked when created, rules
 * checked when Mercurius is registered, `rejectUnauthorized`, your own context and error formatter
 * around Clerk's, code-first rules (graphql-js `extensions.clerk`, a Pothos schema, a machine-token
 * field), a schema extended after registration, and batched queries. Real Fastify servers on
 * loopback, real tokens.
 *
 * Mercurius loads graphql 16's CommonJS build with Node's `require`; this file hands Vite's modules
 * that same instance (see reference-app.test.ts).
 */
import { createRequire } from 'node:module';
import SchemaBuilder from '@pothos/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import mercurius from 'mercurius';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTypeDefs, machineAuthOf, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { clerkMercurius } from 'clerk-api-auth/mercurius';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, codes, gql, WRITER } from '../graphql/helpers.js';

vi.mock('graphql', () => createRequire(import.meta.url)('graphql'));

// Typed resolvers: Mercurius's context carries Clerk's fields (what the README tells users to write).
declare module 'mercurius' {
  interface MercuriusContext extends ClerkGraphQLContext {}
}

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, jwtKey: issuer.jwtKey, apiUrl: api.apiUrl });
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

afterAll(async () => {
  await api?.close();
});

/** A Fastify server with Mercurius on a free loopback port; its `/graphql` URL. */
async function serve(register: (app: FastifyInstance) => Promise<void>): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  apps.push(app);
  await register(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { app, url: `http://127.0.0.1:${address.port}/graphql` };
}

describe('configuration is checked when created', () => {
  it('refuses a ClerkAuth next to Clerk options, a non-object, and pieces given the wrong thing', () => {
    expect(() => clerkMercurius({ clerkAuth, secretKey: issuer.secretKey })).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
    expect(() => clerkMercurius(42 as never)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
    const clerk = clerkMercurius(clerkAuth);
    expect(() => clerk.context('nope' as never)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
    expect(() => clerk.errorFormatter(5 as never)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
    expect(() => clerk.subscription('yes' as never)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG' }));
    expect(() => clerk.subscription({ onConnect: true } as never)).toThrow(expect.objectContaining({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('`onConnect`') }));
  });

  it('a malformed rule refuses the schema when Mercurius is registered, before any request', async () => {
    const clerk = clerkMercurius(clerkAuth);
    const app = Fastify({ logger: false });
    apps.push(app);
    const registering = app.register(mercurius, {
      schema: [clerkDirectiveTypeDefs, 'type Query { stats: Int @hasRole(role: "  ") }'],
      resolvers: { Query: { stats: () => 1 } },
      ...clerk.options,
    });
    await expect(registering).rejects.toMatchObject({ code: 'CLERK_AUTH_CONFIG', message: expect.stringContaining('@hasRole on Query.stats') });
  });
});

describe('rejectUnauthorized', () => {
  it('a query selecting a denied field is rejected whole (401, no data) and no resolver runs', async () => {
    let ran = 0;
    const clerk = clerkMercurius({ clerkAuth, rejectUnauthorized: true });
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: [clerkDirectiveTypeDefs, 'type Query { health: String  secret: String @auth }'],
        resolvers: { Query: { health: () => (ran++, 'ok'), secret: () => (ran++, 'hidden') } },
        ...clerk.options,
      });
    });
    const response = await gql(url, '{ health secret }');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body).not.toHaveProperty('data');
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(ran).toBe(0);
    const allowed = await gql(url, '{ health secret }', { token: await issuer.sessionToken(WRITER) });
    expect(allowed.body).toEqual({ data: { health: 'ok', secret: 'hidden' } });
    expect(ran).toBe(2);
  });
});

describe('your own context and error formatter', () => {
  it('your context gets Clerk’s fields and adds its own; your formatter runs, and a rejection keeps its status and headers', async () => {
    const formatted: string[] = [];
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: [clerkDirectiveTypeDefs, 'type Query { greeting: String @auth }  type Mutation { rename: Boolean @auth }'],
        resolvers: {
          Query: { greeting: (_root, _args, ctx) => `${(ctx as typeof ctx & { greeting: string }).greeting}, ${String(ctx.auth.userId)}` },
          Mutation: { rename: () => true },
        },
        ...clerk.options,
        context: clerk.context((_request, _reply, { auth }) => ({ greeting: auth.isAuthenticated ? 'hello' : 'who?' })),
        errorFormatter: clerk.errorFormatter((execution) => {
          formatted.push(...execution.errors.map((error) => error.message));
          // A formatter that answers 200 for everything, as some do.
          return { statusCode: 200, response: { data: execution.data ?? null, errors: execution.errors.map((error) => ({ message: `[masked] ${error.message}`, extensions: error.extensions })) } };
        }),
      });
    });
    expect((await gql(url, '{ greeting }', { token: await issuer.sessionToken(WRITER) })).body).toEqual({ data: { greeting: 'hello, user_writer' } });
    const denied = await gql(url, '{ greeting }');
    expect(denied.status).toBe(200);
    expect(denied.body.errors?.[0]?.message).toMatch(/^\[masked\] Authentication required/);
    const rejected = await gql(url, 'mutation { rename }');
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('www-authenticate')).toBe('Bearer');
    expect(rejected.body).not.toHaveProperty('data');
    expect(rejected.body.errors).toHaveLength(1);
    expect(rejected.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    expect(formatted).toHaveLength(2);
  });
});

describe('code-first rules on Mercurius', () => {
  it('graphql-js extensions.clerk: type and field rules, a machine-token field read with machineAuthOf', async () => {
    const Report = new GraphQLObjectType({ name: 'Report', extensions: { clerk: { permission: 'org:reports:read' } }, fields: { title: { type: GraphQLString } } });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          reports: { type: new GraphQLNonNull(new GraphQLList(Report)), resolve: () => [{ title: 'Q1' }] },
          ping: {
            type: GraphQLString,
            extensions: { clerk: { token: 'm2m_token' } },
            resolve: async (_root, _args, ctx: ClerkGraphQLContext) => (await machineAuthOf(ctx))?.subject ?? null,
          },
        },
      }),
    });
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, { schema, ...clerk.options });
    });
    const reader = await issuer.sessionToken({ userId: 'user_reader', org: { id: 'org_1', role: 'member', permissions: ['org:reports:read'] } });
    expect((await gql(url, '{ reports { title } }', { token: reader })).body).toEqual({ data: { reports: [{ title: 'Q1' }] } });
    const forbidden = await gql(url, '{ reports { title } }', { token: await issuer.sessionToken(WRITER) });
    expect(forbidden.status).toBe(200);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    // Mercurius's response schema serializes path items as strings (its own behaviour, any error).
    expect(forbidden.body.errors?.[0]?.path?.map(String)).toEqual(['reports', '0', 'title']);

    const machine = await issuer.m2mToken({ machineId: 'mch_billing' });
    expect((await gql(url, '{ ping }', { token: machine })).body).toEqual({ data: { ping: 'mch_billing' } });
    // A session token is not a machine token: the whole operation is refused (the token was presented).
    const session = await gql(url, '{ ping }', { token: reader });
    expect(session.status).toBe(401);
    expect(session.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('a Pothos schema (clerk option) served by Mercurius', async () => {
    const builder = new SchemaBuilder<{ Context: ClerkGraphQLContext }>({ plugins: [clerkPothosPlugin] });
    builder.queryType({
      fields: (t) => ({
        health: t.string({ resolve: () => 'ok' }),
        stats: t.int({ nullable: true, clerk: { role: 'org:admin' }, resolve: () => 7 }),
      }),
    });
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, { schema: builder.toSchema(), ...clerk.options });
    });
    expect((await gql(url, '{ health stats }', { token: await issuer.sessionToken(ADMIN) })).body).toEqual({ data: { health: 'ok', stats: 7 } });
    const writer = await gql(url, '{ health stats }', { token: await issuer.sessionToken(WRITER) });
    expect(writer.body.data).toEqual({ health: 'ok', stats: null });
    expect(codes(writer)).toEqual(['FORBIDDEN']);
  });
});

describe('a schema extended after registration', () => {
  it('is guarded before its first operation: the new field’s directive is enforced', async () => {
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: makeExecutableSchema({ typeDefs: [clerkDirectiveTypeDefs, 'type Query { health: String }'], resolvers: { Query: { health: () => 'ok' } } }),
        ...clerk.options,
      });
      await app.graphql.extendSchema('extend type Query { secret: String @auth }');
      app.graphql.defineResolvers({ Query: { secret: () => 'hidden' } });
    });
    const anonymous = await gql(url, '{ health secret }');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toEqual({ health: 'ok', secret: null });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect((await gql(url, '{ secret }', { token: await issuer.sessionToken(WRITER) })).body).toEqual({ data: { secret: 'hidden' } });
  });
});

describe('batched queries (allowBatchedQueries)', () => {
  it('each operation answers its own errors; the batch is HTTP 200; no extensions.http', async () => {
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: [clerkDirectiveTypeDefs, 'type Query { health: String  me: String @auth }  type Mutation { touch: Boolean @auth }'],
        resolvers: { Query: { health: () => 'ok', me: (_root, _args, ctx) => ctx.auth.userId }, Mutation: { touch: () => true } },
        allowBatchedQueries: true,
        ...clerk.options,
      });
    });
    const send = async (token?: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify([{ query: '{ health me }' }, { query: 'mutation { touch }' }]),
      });
      return { status: response.status, body: (await response.json()) as Array<{ data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> }> };
    };
    const anonymous = await send();
    expect(anonymous.status).toBe(200);
    expect(anonymous.body[0]?.data).toEqual({ health: 'ok', me: null });
    expect(anonymous.body[1]).not.toHaveProperty('data');
    expect(anonymous.body[1]?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    expect(JSON.stringify(anonymous.body)).not.toContain('"http"');
    expect((await send(await issuer.sessionToken(WRITER))).body).toEqual([{ data: { health: 'ok', me: 'user_writer' } }, { data: { touch: true } }]);
  });
});

describe('Mercurius execution paths', () => {
  it('compiled queries (jit: 1) are decided the same, every time', async () => {
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: [clerkDirectiveTypeDefs, 'type Query { health: String  me: String @auth  list: [Item] }  type Item @auth { a: String }'],
        resolvers: { Query: { health: () => 'ok', me: (_root, _args, ctx) => ctx.auth.userId, list: () => [{ a: '1' }, { a: '2' }] } },
        jit: 1,
        ...clerk.options,
      });
    });
    const token = await issuer.sessionToken(WRITER);
    // The first run of a query is interpreted, the next ones run graphql-jit's compiled code.
    for (let run = 0; run < 3; run++) {
      const anonymous = await gql(url, '{ health me list { a } }');
      expect(anonymous.body.data).toEqual({ health: 'ok', me: null, list: [{ a: null }, { a: null }] });
      expect(anonymous.body.errors?.map((error) => error.path?.map(String))).toEqual([['me'], ['list', '0', 'a']]);
      expect((await gql(url, '{ health me list { a } }', { token })).body).toEqual({ data: { health: 'ok', me: 'user_writer', list: [{ a: '1' }, { a: '2' }] } });
    }
  });

  it('GET queries: the same context and answers (partial data, 401 invalid_token with its header)', async () => {
    const clerk = clerkMercurius(clerkAuth);
    const { url } = await serve(async (app) => {
      await app.register(mercurius, {
        schema: [clerkDirectiveTypeDefs, 'type Query { health: String  me: String @auth }'],
        resolvers: { Query: { health: () => 'ok', me: (_root, _args, ctx) => ctx.auth.userId } },
        ...clerk.options,
      });
    });
    const get = async (token?: string) => {
      const response = await fetch(`${url}?query=${encodeURIComponent('{ health me }')}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: unknown; errors?: unknown[] } };
    };
    const anonymous = await get();
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toEqual({ health: 'ok', me: null });
    expect((await get(await issuer.sessionToken(WRITER))).body).toEqual({ data: { health: 'ok', me: 'user_writer' } });
    const expired = await get(await issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 }));
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect(expired.body).not.toHaveProperty('data');
  });
});
