/**
 * assertEveryProcedureGuarded (clerk-api-auth/trpc) and assertEveryFieldGuarded (clerk-api-auth/graphql):
 * the reference app's router and schema pass with their public lists; one unguarded procedure or
 * field, or a stale public entry, fails naming it.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { initTRPC, lazy } from '@trpc/server';
import { buildASTSchema, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { assertEveryFieldGuarded, CLERK_EXTENSION_KEY, clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
import { assertEveryProcedureGuarded, clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { NotesStore } from '../../examples/shared/notes.js';
import { createNotesSchema, typeDefs as referenceTypeDefs } from '../../examples/graphql-yoga/schema.js';
import { appRouter } from '../../examples/trpc/router.js';

const message = (run: () => void): string => {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the assertion to fail, but it passed');
};

describe('assertEveryProcedureGuarded', () => {
  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
  const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);

  it("passes on the reference app's router with health public", () => {
    expect(() => assertEveryProcedureGuarded(appRouter, { public: ['health'] })).not.toThrow();
  });

  it("fails on the reference app's router without the public list, naming health only", () => {
    const text = message(() => assertEveryProcedureGuarded(appRouter));
    expect(text).toContain("- health: no guard.");
    expect(text).toContain("list 'health' in { public: [...] }");
    expect(text.match(/^- /gm)).toHaveLength(1);
  });

  it('counts every kind of guard, and names each unguarded procedure (nested paths included)', () => {
    const router = t.router({
      a: protectedProcedure.query(() => 1),
      b: machineProcedure.query(() => 2),
      c: publicProcedure.use(authorize({ token: 'm2m_token' })).query(() => 3),
      d: publicProcedure.meta({ auth: { token: 'api_key' } }).query(() => 4),
      open: publicProcedure.query(() => 5),
      nested: t.router({ bare: t.procedure.mutation(() => 6), guarded: protectedProcedure.mutation(() => 7) }),
    });
    const text = message(() => assertEveryProcedureGuarded(router, { public: ['a'] }));
    expect(text.match(/^- .*$/gm)?.map((line) => line.split(':')[0])).toEqual(['- nested.bare', '- open']);
    expect(() => assertEveryProcedureGuarded(router, { public: ['open', 'nested.bare'] })).not.toThrow();
  });

  it('a meta without auth does not guard', () => {
    const router = t.router({ x: publicProcedure.meta({}).query(() => 1) });
    expect(message(() => assertEveryProcedureGuarded(router))).toContain('- x: no guard.');
  });

  it('fails on a public entry that names no procedure', () => {
    expect(message(() => assertEveryProcedureGuarded(appRouter, { public: ['health', 'helth'] }))).toContain("'helth' is listed in { public: [...] } but no procedure has that path");
  });

  it('fails closed on a lazy router not loaded yet', () => {
    const router = t.router({ later: lazy(async () => t.router({ y: protectedProcedure.query(() => 1) })) });
    expect(message(() => assertEveryProcedureGuarded(router))).toContain('- later: a lazy router not loaded yet');
  });
});

describe('assertEveryFieldGuarded', () => {
  const reference = createNotesSchema(new NotesStore());

  it("passes on the reference app's schema with Query.health and Query.node public", () => {
    expect(() => assertEveryFieldGuarded(reference, { public: ['Query.health', 'Query.node'] })).not.toThrow();
  });

  it("fails on the reference app's schema without the list, naming exactly those two", () => {
    const text = message(() => assertEveryFieldGuarded(reference));
    expect(text.match(/^- .*$/gm)?.map((line) => line.split(':')[0])).toEqual(['- Query.health', '- Query.node']);
    expect(text).toContain('Add @auth (or @hasRole / @hasPermission) to it or to Query');
  });

  it('fails on one unguarded field added to the reference schema, naming it', () => {
    const schema = buildASTSchema(parse(`${clerkDirectiveTypeDefs}\n${referenceTypeDefs}\nextend type Query { allNotes: [Note!]! }\nextend type Mutation { wipe: Boolean }`));
    const text = message(() => assertEveryFieldGuarded(schema, { public: ['Query.health', 'Query.node'] }));
    // Note's fields are guarded by its type rule, but allNotes itself runs for anyone (and tells how many there are).
    expect(text.match(/^- .*$/gm)?.map((line) => line.split(':')[0])).toEqual(['- Query.allNotes', '- Mutation.wipe']);
    expect(text).toMatch(/^Every reachable GraphQL field must have a rule or be listed public; 2 have not:/);
  });

  it('walks on through public fields (into interfaces, unions and objects), not through guarded ones', () => {
    const schema = makeExecutableSchema({
      typeDefs: [
        clerkDirectiveTypeDefs,
        /* GraphQL */ `
          interface Entity { id: ID! }
          type Profile implements Entity { id: ID! secret: String @auth }
          type Post implements Entity { id: ID! body: String }
          union Result = Profile | Post
          type Account { balance: Int }
          type Query { entity: Entity search: [Result!]! account: Account @auth }
        `,
      ],
    });
    const text = message(() => assertEveryFieldGuarded(schema, { public: ['Query.entity', 'Query.search', 'Profile.id'] }));
    // Account.balance lies behind the guarded Query.account; Profile.secret has its own rule.
    expect(text.match(/^- .*$/gm)?.map((line) => line.split(':')[0])).toEqual(['- Post.id', '- Post.body']);
    expect(() => assertEveryFieldGuarded(schema, { public: ['Query.entity', 'Query.search', 'Profile.id', 'Post.id', 'Post.body'] })).not.toThrow();
  });

  it('reads rules from extensions.clerk (code-first schemas)', () => {
    const query = new GraphQLObjectType({
      name: 'Query',
      fields: {
        hello: { type: GraphQLString },
        me: { type: GraphQLString, extensions: { [CLERK_EXTENSION_KEY]: {} } },
      },
    });
    const schema = new GraphQLSchema({ query });
    expect(message(() => assertEveryFieldGuarded(schema)).match(/^- .*$/gm)?.map((line) => line.split(':')[0])).toEqual(['- Query.hello']);
    expect(() => assertEveryFieldGuarded(schema, { public: ['Query.hello'] })).not.toThrow();
  });

  it('fails on a public entry that names no field', () => {
    expect(message(() => assertEveryFieldGuarded(reference, { public: ['Query.health', 'Query.node', 'Query.nope'] }))).toContain("'Query.nope' is listed in { public: [...] } but the schema has no object field");
  });
});
