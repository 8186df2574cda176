/**
 * One benchmark server, in its own process: `node --import tsx bench/http-server.ts <framework> <variant>`.
 * framework: `trpc` (standalone adapter) | `graphql` (Yoga on node:http); variant:
 * - `none`: the same protected query with no authentication at all;
 * - `ours`: clerk-api-auth (`createClerkContext` + `protectedProcedure`, `useClerk` + `@auth`);
 * - `clerk`: `clerkClient.authenticateRequest()` in the context of every request, as Clerk's docs show.
 * Keys come from CLERK_JWT_KEY / CLERK_SECRET_KEY / CLERK_PUBLISHABLE_KEY. Prints `listening <port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkClient } from '@clerk/backend';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { createSchema, createYoga } from 'graphql-yoga';
import { clerkProcedures, createClerkContext, type ClerkContext } from 'clerk-api-auth/trpc';
import { clerkDirectiveTypeDefs, useClerk } from 'clerk-api-auth/graphql';

const [framework, variant] = process.argv.slice(2) as ['trpc' | 'graphql', 'none' | 'ours' | 'clerk'];
const clerk = createClerkClient({
  jwtKey: process.env.CLERK_JWT_KEY,
  secretKey: process.env.CLERK_SECRET_KEY,
  publishableKey: process.env.CLERK_PUBLISHABLE_KEY,
  telemetry: { disabled: true },
});
const notes = Array.from({ length: 3 }, (_, i) => ({ id: `note_${i}`, text: `note ${i}` }));

function trpcServer() {
  if (variant === 'ours') {
    const t = initTRPC.context<ClerkContext>().create();
    const { protectedProcedure } = clerkProcedures(t);
    const router = t.router({ whoami: protectedProcedure.query(({ ctx }) => ({ userId: ctx.auth.userId, notes })) });
    return createHTTPServer({ router, createContext: createClerkContext({ jwtKey: process.env.CLERK_JWT_KEY }) });
  }
  if (variant === 'clerk') {
    type Ctx = { userId: string | null };
    const t = initTRPC.context<Ctx>().create();
    const router = t.router({
      whoami: t.procedure
        .use(({ ctx, next }) => {
          if (!ctx.userId) throw new TRPCError({ code: 'UNAUTHORIZED' });
          return next({ ctx: { userId: ctx.userId } });
        })
        .query(({ ctx }) => ({ userId: ctx.userId, notes })),
    });
    return createHTTPServer({
      router,
      createContext: async ({ req }) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
        const state = await clerk.authenticateRequest(new Request(`http://localhost${req.url}`, { headers }));
        return { userId: state.isAuthenticated ? (state.toAuth()?.userId ?? null) : null };
      },
    });
  }
  const t = initTRPC.create();
  const router = t.router({ whoami: t.procedure.query(() => ({ userId: 'user_bench', notes })) });
  return createHTTPServer({ router });
}

function graphqlServer() {
  const typeDefs = /* GraphQL */ `
    type Note { id: ID! text: String! }
    type Query { whoami: String ${variant === 'ours' ? '@auth' : ''} notes: [Note!]! ${variant === 'ours' ? '@auth' : ''} }
  `;
  const resolvers = {
    Query: {
      whoami: (_: unknown, __: unknown, ctx: { auth?: { userId?: string | null }; userId?: string | null }) => ctx.auth?.userId ?? ctx.userId ?? 'user_bench',
      notes: () => notes,
    },
  };
  if (variant === 'ours') {
    const yoga = createYoga({ schema: createSchema({ typeDefs: [clerkDirectiveTypeDefs, typeDefs], resolvers }), plugins: [useClerk({ jwtKey: process.env.CLERK_JWT_KEY })], logging: false });
    return createServer(yoga);
  }
  if (variant === 'clerk') {
    const yoga = createYoga({
      schema: createSchema<{ userId: string | null }>({ typeDefs, resolvers }),
      logging: false,
      context: async ({ request }) => {
        const state = await clerk.authenticateRequest(request);
        if (!state.isAuthenticated) throw new Error('unauthenticated');
        return { userId: (state.toAuth()?.userId ?? null) as string | null };
      },
    });
    return createServer(yoga);
  }
  return createServer(createYoga({ schema: createSchema({ typeDefs, resolvers }), logging: false }));
}

const server = framework === 'trpc' ? trpcServer() : graphqlServer();
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
