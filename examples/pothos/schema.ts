/**
 * The reference app's GraphQL schema built code-first with Pothos: the very types of
 * examples/graphql-yoga/schema.ts, without SDL. The rules are the `clerk` option of the
 * clerk-api-auth Pothos plugin (typed: a misspelled key or a wrong value does not compile), checked
 * when the schema is built and enforced by `useClerk`.
 */
import SchemaBuilder from '@pothos/core';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import type { ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
import type { Note, NotesStore } from '../shared/notes.js';

export type Context = YogaInitialContext & ClerkGraphQLContext;

interface User {
  id: string;
  email: string | null;
}

/** The signed-in user's id; the rules guarantee one wherever this is called. */
function userIdOf(ctx: Context): string {
  const { auth } = ctx;
  if (auth.tokenType === 'session_token' && auth.isAuthenticated) return auth.userId;
  // Unreachable behind a `clerk` rule; fail closed if a rule is ever removed by mistake.
  throw new GraphQLError('Authentication required.', { extensions: { code: 'UNAUTHENTICATED' } });
}

export function createPothosNotesSchema(store: NotesStore): GraphQLSchema {
  const builder = new SchemaBuilder<{ Context: Context; Objects: { Note: Note; User: User; Stats: { notes: number } } }>({
    plugins: [clerkPothosPlugin],
  });

  const NodeRef = builder.interfaceRef<Note>('Node').implement({
    fields: (t) => ({ id: t.exposeID('id', { nullable: false }) }),
    resolveType: () => 'Note',
  });

  builder.objectType('Note', {
    interfaces: [NodeRef],
    clerk: true,
    fields: (t) => ({
      text: t.exposeString('text', { nullable: false }),
      authorId: t.exposeID('authorId', { nullable: false }),
    }),
  });

  builder.objectType('User', {
    fields: (t) => ({
      id: t.exposeID('id', { nullable: false }),
      email: t.exposeString('email', { nullable: true }),
    }),
  });

  builder.objectType('Stats', {
    fields: (t) => ({ notes: t.exposeInt('notes', { nullable: false }) }),
  });

  builder.queryType({
    fields: (t) => ({
      health: t.string({ nullable: false, resolve: () => 'ok' }),
      me: t.field({
        type: 'User',
        nullable: true,
        description: "The caller, from Clerk's Backend API (needs CLERK_SECRET_KEY).",
        clerk: true,
        resolve: async (_root, _args, ctx) => {
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
      }),
      notes: t.field({
        type: ['Note'],
        nullable: { list: false, items: false },
        description: "The caller's notes.",
        clerk: true,
        resolve: (_root, _args, ctx) => store.listBy(userIdOf(ctx)),
      }),
      node: t.field({
        type: NodeRef,
        nullable: true,
        description: "A note, to its author only (null to anyone else). Public field; Note's fields stay protected through it.",
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, { id }, ctx) => {
          const { auth } = ctx;
          const caller = auth.tokenType === 'session_token' && auth.isAuthenticated ? auth.userId : null;
          const note = store.get(String(id));
          return note !== undefined && caller !== null && note.authorId === caller ? note : null;
        },
      }),
      adminStats: t.field({
        type: 'Stats',
        nullable: true,
        description: "Counts every note in this server's store.",
        clerk: { role: 'org:admin' },
        resolve: () => ({ notes: store.count() }),
      }),
      reportsExport: t.int({
        nullable: true,
        description: "The number of rows the caller's report has: behind the Clerk Billing feature reports (402 PAYMENT_REQUIRED without it).",
        clerk: { feature: 'reports' },
        resolve: (_root, _args, ctx) => store.listBy(userIdOf(ctx)).length,
      }),
    }),
  });

  builder.mutationType({
    fields: (t) => ({
      createNote: t.field({
        type: 'Note',
        nullable: false,
        args: { text: t.arg.string({ required: true }) },
        clerk: { permission: 'org:notes:create' },
        resolve: (_root, { text }, ctx) => store.create(text, userIdOf(ctx)),
      }),
      rotateKey: t.boolean({
        nullable: false,
        description: "Needs a recent reverification (strict); otherwise 403 with Clerk's hint in extensions.clerk_error.",
        clerk: { reverification: 'strict' },
        resolve: () => true,
      }),
    }),
  });

  builder.subscriptionType({
    fields: (t) => ({
      noteAdded: t.field({
        type: 'Note',
        nullable: false,
        description: 'Each note the caller creates from now on.',
        clerk: true,
        subscribe: (_root, _args, ctx) => store.added(userIdOf(ctx), ctx.request?.signal),
        resolve: (note) => note,
      }),
    }),
  });

  return builder.toSchema();
}
