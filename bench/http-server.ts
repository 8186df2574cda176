/**
 * One benchmark server, in its own process: `node --import tsx bench/http-server.ts <framework> <variant>`.
 * framework: `node` (a bare node:http handler, the reference point) | `trpc` (standalone
 * adapter) | `graphql` (Yoga on node:http); variant:
 * - `none`: the same protected answer with no authentication at all;
 * - `ours`: clerk-api-auth (`clerkAuth.authenticate`, `createClerkContext` + `protectedProcedure`,
 *   `useClerk` + `@auth`);
 * - `clerk`: `clerkClient.authenticateRequest()` on every request, as Clerk's docs show.
 * Keys come from CLERK_JWT_KEY / CLERK_SECRET_KEY / CLERK_PUBLISHABLE_KEY. Prints `listening <port>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkClient } from '@clerk/backend';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { createSchema, createYoga } from 'graphql-yoga';
import { createClerkAuth } from 'clerk-api-auth';
import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { clerkDirectiveTypeDefs, useClerk } from 'clerk-api-auth/graphql';

type Framework = 'node' | 'trpc' | 'graphql';
type Variant = 'none' | 'ours' | 'clerk';
const [framework, variant] = process.argv.slice(2) as [Framework, Variant];
const clerk = createClerkClient({
  jwtKey: process.env.CLERK_JWT_KEY,
  secretKey: process.env.CLERK_SECRET_KEY,
  publishableKey: process.env.CLERK_PUBLISHABLE_KEY,
  telemetry: { disabled: true },
});
const notes = Array.from({ length: 3 }, (_, i) => ({ id: `note_${i}`, text: `note ${i}` }));

/** The user id `authenticateRequest` finds in a Node request (headers copied into a web Request, as its docs require). */
async function clerkUserId(req: IncomingMessage): Promise<string | null> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  const state = await clerk.authenticateRequest(new Request(`http://localhost${req.url}`, { headers }));
  return state.isAuthenticated ? (state.toAuth()?.userId ?? null) : null;
}

function nodeServer() {
  const clerkAuth = createClerkAuth({ jwtKey: process.env.CLERK_JWT_KEY });
  const answer = (res: ServerResponse, userId: string | null) => {
    res.writeHead(userId === null ? 401 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(userId === null ? { error: 'unauthenticated' } : { userId, notes }));
  };
  return createServer((req, res) => {
    if (variant === 'none') return answer(res, 'user_bench');
    if (variant === 'clerk') return void clerkUserId(req).then((userId) => answer(res, userId));
    void clerkAuth.authenticate(req).then(({ auth }) => answer(res, auth.tokenType === 'session_token' && auth.isAuthenticated ? auth.userId : null));
  });
}

function trpcServer() {
  if (variant === 'ours') {
    const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
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
    return createHTTPServer({ router, createContext: async ({ req }) => ({ userId: await clerkUserId(req) }) });
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

const server = { node: nodeServer, trpc: trpcServer, graphql: graphqlServer }[framework]();
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
});
