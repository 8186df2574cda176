/**
 * Every rule of a schema (SDL directives and code-first `extensions.clerk`, as Pothos and
 * graphql-js `extensions` write them) is checked by the core's one validator, `validateRequirement`,
 * when the schema is loaded: by `useClerk` when Yoga loads it, and by `clerkDirectiveTransformer`.
 * A typo (`rol`), an unknown token kind (`m2m`), a wrong value type or an unknown reverification
 * preset must refuse the schema, naming the element and the fix — never guard nothing, never fail
 * later with a misleading 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, GraphQLString, graphql } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { ClerkAuthConfigError, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext, useClerk } from 'clerk-api-auth/graphql';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { ADMIN, codes, gql, listen, MEMBER } from './helpers.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
});

afterAll(async () => {
  for (const close of closers) await close();
});

/** A code-first schema (what Pothos or plain graphql-js build) whose `Query.report` carries `extensions.clerk`. */
function codeFirst(clerk: unknown, resolved: { count: number } = { count: 0 }): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        health: { type: GraphQLString, resolve: () => 'ok' },
        report: {
          type: GraphQLString,
          resolve: () => {
            resolved.count++;
            return 'ADMIN_REPORT';
          },
          extensions: { clerk: clerk as never },
        },
      },
    }),
  });
}

/** A type-level rule, to check that a type is named too. */
function typeLevel(clerk: unknown): GraphQLSchema {
  const Secret = new GraphQLObjectType({ name: 'Secret', fields: { value: { type: GraphQLString } }, extensions: { clerk: clerk as never } });
  return new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { secret: { type: Secret, resolve: () => ({ value: 'x' }) } } }) });
}

/** Malformed rules, with what the message must say (the element, the offending key, and the fix). */
const malformed: Array<[string, unknown, RegExp[]]> = [
  ['a typo in a key: { rol }', { rol: 'org:admin' }, [/Query\.report/, /unknown key "rol"/, /role/]],
  ['an unknown token kind: { token: "m2m" }', { token: 'm2m' }, [/Query\.report/, /token/, /m2m_token/]],
  ['a wrong value type: { role: 5 }', { role: 5 }, [/Query\.report/, /role/, /non-empty string/]],
  ['an empty list: { role: [] }', { role: [] }, [/Query\.report/, /role/, /non-empty list/]],
  ['an unknown reverification preset', { reverification: 'sometimes' }, [/Query\.report/, /reverification/, /strict_mfa/, /afterMinutes/]],
];

describe('useClerk refuses a malformed extensions.clerk when Yoga loads the schema', () => {
  for (const [name, clerk, messages] of malformed) {
    it(name, () => {
      const build = () => createYoga({ schema: codeFirst(clerk), plugins: [useClerk(clerkAuth)], logging: false });
      expect(build).toThrow(ClerkAuthConfigError);
      for (const message of messages) expect(build).toThrow(message);
    });
  }

  it('names a type for a type-level rule', () => {
    const build = () => createYoga({ schema: typeLevel({ rol: 'org:admin' }), plugins: [useClerk(clerkAuth)], logging: false });
    expect(build).toThrow(ClerkAuthConfigError);
    expect(build).toThrow(/on Secret\b/);
  });

  it('refuses a malformed reverification object and accepts a valid one', () => {
    const build = (reverification: unknown) => () =>
      createYoga({ schema: codeFirst({ reverification }), plugins: [useClerk(clerkAuth)], logging: false });
    expect(build({ level: 'third_factor', afterMinutes: 10 })).toThrow(ClerkAuthConfigError);
    expect(build({ level: 'second_factor', afterMinutes: 0 })).toThrow(/reverification/);
    expect(build({ level: 'second_factor', afterMinutes: '10' })).toThrow(/reverification/);
    expect(build(null)).toThrow(/reverification/);
    for (const valid of ['strict_mfa', 'strict', 'moderate', 'lax', { level: 'multi_factor', afterMinutes: 5 }]) {
      expect(build(valid)).not.toThrow();
    }
  });

  it('refuses the same mistakes in an interface rule and accepts `true`', () => {
    const Node = new GraphQLInterfaceType({ name: 'Node', fields: { id: { type: GraphQLString } }, extensions: { clerk: { permision: 'x' } as never } });
    const Thing = new GraphQLObjectType({ name: 'Thing', interfaces: [Node], fields: { id: { type: GraphQLString } } });
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { thing: { type: Thing } } }), types: [Thing] });
    expect(() => createYoga({ schema, plugins: [useClerk(clerkAuth)], logging: false })).toThrow(/on Node\b.*unknown key "permision"/);
    expect(() => createYoga({ schema: codeFirst(true), plugins: [useClerk(clerkAuth)], logging: false })).not.toThrow();
  });
});

describe('clerkDirectiveTransformer refuses the same rules when it builds the schema', () => {
  for (const [name, clerk, messages] of malformed) {
    it(name, () => {
      const build = () => clerkDirectiveTransformer(codeFirst(clerk));
      expect(build).toThrow(ClerkAuthConfigError);
      for (const message of messages) expect(build).toThrow(message);
    });
  }

  it('refuses an SDL directive with an empty list, naming the field and the fix', () => {
    const sdl = (typeDefs: string) => () =>
      clerkDirectiveTransformer(createSchema({ typeDefs: [clerkDirectiveTypeDefs, typeDefs], resolvers: {} }));
    expect(sdl('type Query { a: String @hasRole(role: []) }')).toThrow(ClerkAuthConfigError);
    expect(sdl('type Query { a: String @hasRole(role: []) }')).toThrow(/@hasRole on Query\.a.*non-empty/);
    expect(sdl('type Query { a: String @hasPermission(permission: [""]) }')).toThrow(/@hasPermission on Query\.a/);
    expect(sdl('type Query { a: String @hasRole(role: "org:admin") }')).not.toThrow();
  });
});

describe('graphql-tools `extensions.directives` go through the same validator', () => {
  const withDirectives = (directives: unknown) =>
    new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: { report: { type: GraphQLString, resolve: () => 'ADMIN_REPORT', extensions: { directives: directives as never } } },
      }),
    });

  it('refuses an empty role list and accepts a single string', async () => {
    expect(() => clerkDirectiveTransformer(withDirectives({ hasRole: { role: [] } }))).toThrow(/@hasRole on Query\.report/);
    const schema = clerkDirectiveTransformer(withDirectives({ hasRole: { role: 'org:admin' } }));
    const context = createClerkGraphQLContext(clerkAuth);
    const member = await graphql({ schema, source: '{ report }', contextValue: await context(await issuer.sessionToken(MEMBER)) });
    expect(member.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    const admin = await graphql({ schema, source: '{ report }', contextValue: await context(await issuer.sessionToken(ADMIN)) });
    expect(admin).toEqual({ data: { report: 'ADMIN_REPORT' } });
  });
});

describe('a valid extensions.clerk is enforced over HTTP', () => {
  it('{ role: "org:admin" } on a field: a signed-in non-admin gets null + FORBIDDEN, an admin gets the data', async () => {
    const resolved = { count: 0 };
    const served = await listen(createYoga({ schema: codeFirst({ role: 'org:admin' }, resolved), plugins: [useClerk(clerkAuth)], logging: false }));
    closers.push(served.close);

    const member = await gql(served.url, '{ health report }', { token: await issuer.sessionToken(MEMBER) });
    expect(member.status).toBe(200);
    expect(member.body.data).toEqual({ health: 'ok', report: null });
    expect(codes(member)).toEqual(['FORBIDDEN']);
    expect(member.body.errors?.[0]?.path).toEqual(['report']);
    expect(resolved.count).toBe(0);

    const admin = await gql(served.url, '{ health report }', { token: await issuer.sessionToken(ADMIN) });
    expect(admin.body).toEqual({ data: { health: 'ok', report: 'ADMIN_REPORT' } });
    expect(resolved.count).toBe(1);
  });

  it('the same through clerkDirectiveTransformer on a plain graphql() call', async () => {
    const resolved = { count: 0 };
    const schema = clerkDirectiveTransformer(codeFirst({ role: 'org:admin' }, resolved));
    const context = createClerkGraphQLContext(clerkAuth);
    const member = await graphql({ schema, source: '{ health report }', contextValue: await context(await issuer.sessionToken(MEMBER)) });
    expect(member.data).toEqual({ health: 'ok', report: null });
    expect(member.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(resolved.count).toBe(0);
    const admin = await graphql({ schema, source: '{ report }', contextValue: await context(await issuer.sessionToken(ADMIN)) });
    expect(admin).toEqual({ data: { report: 'ADMIN_REPORT' } });
    expect(resolved.count).toBe(1);
  });
});
