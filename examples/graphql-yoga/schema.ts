/**
 * The reference app's GraphQL schema: the notes API (the same as examples/trpc/router.ts), guarded with the
 * clerk-api-auth directives. Resolvers read `ctx.auth` (Clerk's auth object) and `ctx.clerk`.
 */
import { GraphQLError } from 'graphql';
import { createSchema, type YogaInitialContext } from 'graphql-yoga';
import { clerkDirectiveTypeDefs, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import type { Note, NotesStore } from '../shared/notes.js';

export type Context = YogaInitialContext & ClerkGraphQLContext;

export const typeDefs = /* GraphQL */ `
  interface Node {
    id: ID!
  }

  type Note implements Node @auth {
    id: ID!
    text: String!
    authorId: ID!
  }

  type User {
    id: ID!
    email: String
  }

  type Stats {
    notes: Int!
  }

  type Query {
    health: String!
    "The caller, from Clerk's Backend API (needs CLERK_SECRET_KEY)."
    me: User @auth
    "The caller's notes."
    notes: [Note!]! @auth
    "A note, to its author only (null to anyone else). Public field; Note's fields stay protected through it."
    node(id: ID!): Node
    "Counts every note in this server's store."
    adminStats: Stats @hasRole(role: "org:admin")
    "The number of rows the caller's report has: behind the Clerk Billing feature reports (402 PAYMENT_REQUIRED without it)."
    reportsExport: Int @auth(feature: "reports")
  }

  type Mutation {
    createNote(text: String!): Note! @hasPermission(permission: "org:notes:create")
    "Needs a recent reverification (strict); otherwise 403 with Clerk's hint in extensions.clerk_error."
    rotateKey: Boolean! @auth(reverification: strict)
  }

  type Subscription {
    "Each note the caller creates from now on."
    noteAdded: Note! @auth
  }
`;

/** The signed-in user's id; the directives guarantee one wherever this is called. */
function userIdOf(ctx: Context): string {
  const { auth } = ctx;
  if (auth.tokenType === 'session_token' && auth.isAuthenticated) return auth.userId;
  // Unreachable behind @auth; fail closed if a rule is ever removed by mistake.
  throw new GraphQLError('Authentication required.', { extensions: { code: 'UNAUTHENTICATED' } });
}

export function createNotesSchema(store: NotesStore) {
  return createSchema<Context>({
    typeDefs: [clerkDirectiveTypeDefs, typeDefs],
    resolvers: {
      Node: {
        __resolveType: () => 'Note',
      },
      Query: {
        health: () => 'ok',
        me: async (_source, _args, ctx) => {
          const userId = userIdOf(ctx);
          try {
            const user = await ctx.clerk.users.getUser(userId);
            return { id: user.id, email: user.primaryEmailAddress?.emailAddress ?? null };
          } catch (error) {
            // ClerkSecretKeyRequiredError (networkless mode) reaches the client with its code via useClerk;
            // a user unknown to Clerk is simply absent.
            if ((error as { status?: unknown }).status === 404) return null;
            throw error;
          }
        },
        notes: (_source, _args, ctx) => store.listBy(userIdOf(ctx)),
        node: (_source, { id }: { id: string }, ctx) => {
          const { auth } = ctx;
          const caller = auth.tokenType === 'session_token' && auth.isAuthenticated ? auth.userId : null;
          const note = store.get(id);
          return note !== undefined && caller !== null && note.authorId === caller ? note : null;
        },
        adminStats: () => ({ notes: store.count() }),
        reportsExport: (_source, _args, ctx) => store.listBy(userIdOf(ctx)).length,
      },
      Mutation: {
        createNote: (_source, { text }: { text: string }, ctx) => store.create(text, userIdOf(ctx)),
        rotateKey: () => true,
      },
      Subscription: {
        noteAdded: {
          subscribe: (_source, _args, ctx) => store.added(userIdOf(ctx), ctx.request?.signal),
          resolve: (note: Note) => note,
        },
      },
    },
  });
}
