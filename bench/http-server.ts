/**
 * One benchmark server, in its own process: `node --import tsx bench/http-server.ts <server> <variant>`.
 * Every server answers one protected request with the same body in each variant (bench/http.ts checks
 * it), built with the package's public entry points as the README documents them:
 *
 * - `node`: a bare node:http handler (the reference point), `clerkAuth.authenticate(req)`;
 * - tRPC, `GET …/whoami` (`protectedProcedure` + `createClerkContext` + `clerkResponseMeta`):
 *   `trpc` (standalone adapter), `trpc-fetch` (`fetchRequestHandler` on node:http, the Node request
 *   turned into a web Request by examples/shared/serve.ts, as examples/trpc does), `trpc-express`,
 *   `trpc-fastify` (`fastifyTRPCPlugin`), `trpc-lambda` (`awsLambdaRequestHandler` behind the API
 *   Gateway v2 shim of examples/trpc-lambda), `trpc-next` (`createNextApiHandler`, driven from
 *   node:http: see `trpcNext`);
 * - GraphQL, `POST /graphql` (`whoami` and `notes` guarded by `@auth`, or by Pothos's `clerk: true`):
 *   `graphql` and `graphql-small` (GraphQL Yoga + `useClerk`; one server, two queries),
 *   `apollo` (Apollo Server on Fastify through `@as-integrations/fastify`, as examples/apollo, with
 *   `clerkApolloPlugin` + `createClerkGraphQLContext`), `graphql-http` (graphql-http's node handler,
 *   `clerkDirectiveTransformer` + `clerkGraphQLHttp`), `mercurius` (Fastify + Mercurius, `clerkMercurius`),
 *   `pothos` (a code-first Pothos schema with `clerkPothosPlugin`, on Yoga + `useClerk`).
 *
 * variant:
 * - `none`: the same protected answer with no authentication at all (the same server without the package);
 * - `ours`: clerk-api-auth, which refuses a request without a token;
 * - `clerk`: `clerkClient.authenticateRequest()` on every request, as Clerk's docs show (`node`, `trpc`,
 *   `trpc-fetch`, `graphql`, `graphql-small` only).
 * Keys come from CLERK_JWT_KEY / CLERK_SECRET_KEY / CLERK_PUBLISHABLE_KEY. Listens on 127.0.0.1 and
 * prints `listening <port>`. `BENCH_CPU_PROFILE=<file>` profiles it for bench/profile.ts (see `cpuProfiler`).
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type BaseContext } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { createClerkClient } from '@clerk/backend';
import { makeExecutableSchema } from '@graphql-tools/schema';
import SchemaBuilder from '@pothos/core';
import { initTRPC, TRPCError, type AnyRouter } from '@trpc/server';
import { awsLambdaRequestHandler } from '@trpc/server/adapters/aws-lambda';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createNextApiHandler } from '@trpc/server/adapters/next';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import express from 'express';
import Fastify from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { createSchema, createYoga } from 'graphql-yoga';
import mercurius from 'mercurius';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkApolloPlugin } from 'clerk-api-auth/apollo';
import {
  clerkDirectiveTransformer,
  clerkDirectiveTypeDefs,
  clerkGraphQLHttp,
  createClerkGraphQLContext,
  useClerk,
  type ClerkGraphQLContext,
} from 'clerk-api-auth/graphql';
import { clerkMercurius } from 'clerk-api-auth/mercurius';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';
import { clerkProcedures, clerkResponseMeta, createClerkContext, type ClerkContext, type ClerkContextAdapterOptions, type ClerkMeta } from 'clerk-api-auth/trpc';
import { serve } from '../examples/shared/serve.js';
import { serveLambda } from '../examples/trpc-lambda/api-gateway.js';

type Variant = 'none' | 'ours' | 'clerk';
const [name, variant] = process.argv.slice(2) as [string, Variant];
const clerk = createClerkClient({
  jwtKey: process.env.CLERK_JWT_KEY,
  secretKey: process.env.CLERK_SECRET_KEY,
  publishableKey: process.env.CLERK_PUBLISHABLE_KEY,
  telemetry: { disabled: true },
});
const notes = Array.from({ length: 3 }, (_, i) => ({ id: `note_${i}`, text: `note ${i}` }));
let shared: ClerkAuth | undefined;
/** The one authenticator of an `ours` server (every entry point of a server shares it, as the README advises). */
const clerkAuth = (): ClerkAuth => (shared ??= createClerkAuth({ jwtKey: process.env.CLERK_JWT_KEY }));

interface Listening {
  port: number;
  close(): Promise<void>;
}

/** The user id `authenticateRequest` finds in a request (a Node request's headers copied into a web Request, as its docs require). */
async function clerkUserId(req: IncomingMessage | Request): Promise<string | null> {
  let request: Request;
  if (req instanceof Request) request = req;
  else {
    const headers = new Headers();
    for (const [header, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(header, value);
    request = new Request(`http://localhost${req.url}`, { headers });
  }
  const state = await clerk.authenticateRequest(request);
  return state.isAuthenticated ? (state.toAuth()?.userId ?? null) : null;
}

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ── bare node:http ──────────────────────────────────────────────────────────────────────────────

function nodeServer(): Promise<Listening> {
  const answer = (res: ServerResponse, userId: string | null) => {
    res.writeHead(userId === null ? 401 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(userId === null ? { error: 'unauthenticated' } : { userId, notes }));
  };
  return listen(
    createServer((req, res) => {
      if (variant === 'none') return answer(res, 'user_bench');
      if (variant === 'clerk') return void clerkUserId(req).then((userId) => answer(res, userId));
      void clerkAuth()
        .authenticate(req)
        .then(({ auth }) => answer(res, auth.tokenType === 'session_token' && auth.isAuthenticated ? auth.userId : null));
    }),
  );
}

// ── tRPC: one router per variant, served by each adapter ─────────────────────────────────────────

/** What every tRPC adapter is given: the variant's router, its `createContext`, and (ours) `clerkResponseMeta`. */
interface TrpcApp {
  router: AnyRouter;
  createContext: (opts: unknown) => object | Promise<object>;
  responseMeta?: typeof clerkResponseMeta;
}

/** `credentials` reads what `authenticateRequest` needs from an adapter's options (only `clerk` servers use it). */
function trpcApp(credentials: (opts: unknown) => IncomingMessage | Request = (opts) => (opts as { req: IncomingMessage }).req): TrpcApp {
  if (variant === 'ours') {
    const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
    const { protectedProcedure } = clerkProcedures(t);
    const createContext = createClerkContext(clerkAuth());
    return {
      router: t.router({ whoami: protectedProcedure.query(({ ctx }) => ({ userId: ctx.auth.userId, notes })) }),
      // Every adapter's options are ClerkContextAdapterOptions; the adapters type them one by one.
      createContext: (opts) => createContext(opts as ClerkContextAdapterOptions),
      responseMeta: clerkResponseMeta,
    };
  }
  if (variant === 'clerk') {
    const t = initTRPC.context<{ userId: string | null }>().create();
    const router = t.router({
      whoami: t.procedure
        .use(({ ctx, next }) => {
          if (!ctx.userId) throw new TRPCError({ code: 'UNAUTHORIZED' });
          return next({ ctx: { userId: ctx.userId } });
        })
        .query(({ ctx }) => ({ userId: ctx.userId, notes })),
    });
    return { router, createContext: async (opts) => ({ userId: await clerkUserId(credentials(opts)) }) };
  }
  const t = initTRPC.create();
  return { router: t.router({ whoami: t.procedure.query(() => ({ userId: 'user_bench', notes })) }), createContext: () => ({}) };
}

function trpcStandalone(): Promise<Listening> {
  return listen(createHTTPServer(trpcApp()));
}

/** The fetch adapter on node:http, the request converted as examples/trpc converts it (examples/shared/serve.ts, access log muted). */
async function trpcFetch(): Promise<Listening> {
  const app = trpcApp((opts) => (opts as { req: Request }).req);
  const served = await serve((req) => fetchRequestHandler({ endpoint: '/trpc', req, ...app }), { port: 0, host: '127.0.0.1', name: 'trpc-fetch', log: () => {} });
  return { port: served.port, close: () => served.close() };
}

function trpcExpress(): Promise<Listening> {
  const app = express();
  app.disable('x-powered-by');
  app.use('/trpc', createExpressMiddleware(trpcApp()));
  return listen(createServer(app));
}

async function trpcFastify(): Promise<Listening> {
  const app = Fastify({ routerOptions: { maxParamLength: 5000 }, logger: false });
  await app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions: trpcApp() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/** The aws-lambda adapter behind examples/trpc-lambda's API Gateway shim, delivering payload v2 events. */
async function trpcLambda(): Promise<Listening> {
  const handler = awsLambdaRequestHandler(trpcApp());
  const gateway = await serveLambda((event, context) => handler(event as Parameters<typeof handler>[0], context), { port: 0, host: '127.0.0.1', shape: 'v2' });
  return { port: gateway.port, close: () => gateway.close() };
}

/**
 * The Next.js pages adapter (`createNextApiHandler`). `next` is not installed here, so node:http routes
 * `/api/trpc/<path>` the way Next's server routes `pages/api/trpc/[trpc].ts`: the procedure path in
 * `req.query.trpc`, the search parameters in `req.query`, plus the `cookies`, `body` and `env` fields an
 * API route's request carries (as test/trpc/more-adapters.test.ts does). Next's own routing and body
 * parsing are not measured.
 */
function trpcNext(): Promise<Listening> {
  const handler = createNextApiHandler(trpcApp());
  return listen(
    createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const query: Record<string, string> = Object.fromEntries(url.searchParams);
      query.trpc = decodeURIComponent(url.pathname.replace(/^\/api\/trpc\//, ''));
      void handler(Object.assign(req, { query, cookies: {}, body: undefined, env: {} }), res);
    }),
  );
}

// ── GraphQL: one SDL (guarded by @auth in `ours`) and the variant's resolvers ───────────────────

const typeDefs = /* GraphQL */ `
  type Note { id: ID! text: String! }
  type Query { whoami: String ${variant === 'ours' ? '@auth' : ''} notes: [Note!]! ${variant === 'ours' ? '@auth' : ''} }
`;
/** `ours` answers the user the package authenticated; `clerk` the one `authenticateRequest` found; `none` a constant. */
const resolvers = {
  Query: {
    // `object`: every server's context type (Mercurius's too) is one; graphql-http without a `context` gives none.
    whoami: (_: unknown, __: unknown, ctx: object | undefined) => {
      const { auth, userId } = (ctx ?? {}) as Partial<ClerkGraphQLContext> & { userId?: string | null };
      return variant === 'ours' ? (auth?.userId ?? null) : variant === 'clerk' ? (userId ?? null) : 'user_bench';
    },
    notes: () => notes,
  },
};
const sdl = variant === 'ours' ? [clerkDirectiveTypeDefs, typeDefs] : [typeDefs];

function yogaServer(schema: GraphQLSchema = createSchema({ typeDefs: sdl, resolvers })): Promise<Listening> {
  if (variant === 'ours') return listen(createServer(createYoga({ schema, plugins: [useClerk(clerkAuth())], logging: false })));
  if (variant === 'clerk') {
    const yoga = createYoga<object, { userId: string | null }>({
      schema,
      logging: false,
      context: async ({ request }) => {
        const state = await clerk.authenticateRequest(request);
        if (!state.isAuthenticated) throw new Error('unauthenticated');
        return { userId: (state.toAuth()?.userId ?? null) as string | null };
      },
    });
    return listen(createServer(yoga));
  }
  return listen(createServer(createYoga({ schema, logging: false })));
}

/** Apollo Server on Fastify (`@as-integrations/fastify`), as examples/apollo serves it. */
async function apolloServer(): Promise<Listening> {
  const app = Fastify({ logger: false });
  if (variant === 'ours') {
    const apollo = new ApolloServer<ClerkGraphQLContext>({
      typeDefs: sdl,
      resolvers,
      plugins: [clerkApolloPlugin(clerkAuth()), fastifyApolloDrainPlugin(app)],
      includeStacktraceInErrorResponses: false,
    });
    await apollo.start();
    const clerkContext = createClerkGraphQLContext(clerkAuth());
    await app.register(fastifyApollo(apollo), { path: '/graphql', context: (request) => clerkContext(request.raw) });
  } else {
    const apollo = new ApolloServer<BaseContext>({ typeDefs: sdl, resolvers, plugins: [fastifyApolloDrainPlugin(app)], includeStacktraceInErrorResponses: false });
    await apollo.start();
    await app.register(fastifyApollo(apollo), { path: '/graphql' });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/** graphql-http's node handler on node:http (README: `createHandler({ schema, ...clerk.http })`). */
function graphqlHttpServer(): Promise<Listening> {
  const schema = makeExecutableSchema({ typeDefs: sdl, resolvers });
  const handle =
    variant === 'ours'
      ? createHandler({ schema: clerkDirectiveTransformer(schema, { clerkAuth: clerkAuth() }), ...clerkGraphQLHttp(clerkAuth()).http })
      : createHandler({ schema });
  return listen(
    createServer((req, res) => {
      if (req.url?.startsWith('/graphql')) void handle(req, res);
      else res.writeHead(404).end();
    }),
  );
}

/** Fastify + Mercurius; `ours` spreads `clerkMercurius(...).options` into Mercurius's, as the README does. */
async function mercuriusServer(): Promise<Listening> {
  const app = Fastify({ logger: false });
  await app.register(mercurius, { schema: sdl, resolvers, path: '/graphql', ...(variant === 'ours' && clerkMercurius(clerkAuth()).options) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/** The same code-first schema, guarded (`clerkPothosPlugin`, `clerk: true`, enforced by `useClerk`) or not (plain Pothos). */
function pothosSchema(): GraphQLSchema {
  const guarded = variant === 'ours';
  const builder = new SchemaBuilder<{ Context: Partial<ClerkGraphQLContext>; Objects: { Note: { id: string; text: string } } }>({
    plugins: guarded ? [clerkPothosPlugin] : [],
  });
  const rule = guarded ? { clerk: true as const } : {};
  builder.objectType('Note', { fields: (t) => ({ id: t.exposeID('id', { nullable: false }), text: t.exposeString('text', { nullable: false }) }) });
  builder.queryType({
    fields: (t) => ({
      whoami: t.string({ nullable: true, ...rule, resolve: (_root, _args, ctx) => (guarded ? (ctx.auth?.userId ?? null) : 'user_bench') }),
      notes: t.field({ type: ['Note'], nullable: { list: false, items: false }, ...rule, resolve: () => notes }),
    }),
  });
  return builder.toSchema();
}

const SERVERS: Record<string, () => Promise<Listening>> = {
  node: nodeServer,
  trpc: trpcStandalone,
  'trpc-fetch': trpcFetch,
  'trpc-express': trpcExpress,
  'trpc-fastify': trpcFastify,
  'trpc-lambda': trpcLambda,
  'trpc-next': trpcNext,
  graphql: () => yogaServer(),
  'graphql-small': () => yogaServer(),
  apollo: apolloServer,
  'graphql-http': graphqlHttpServer,
  mercurius: mercuriusServer,
  pothos: () => yogaServer(pothosSchema()),
};

const startServer = SERVERS[name];
if (startServer === undefined || !['none', 'ours', 'clerk'].includes(variant)) {
  console.error(`usage: http-server.ts <${Object.keys(SERVERS).join('|')}> <none|ours|clerk>`);
  process.exit(2);
}
const profiler = process.env.BENCH_CPU_PROFILE ? await cpuProfiler(process.env.BENCH_CPU_PROFILE) : undefined;
const server = await startServer();
console.log(`listening ${server.port}`);
process.on('SIGTERM', () => {
  setTimeout(() => process.exit(0), 5000).unref();
  void Promise.resolve(profiler?.stop())
    .then(() => server.close())
    .finally(() => process.exit(0));
});

/**
 * With `BENCH_CPU_PROFILE=<file>` (bench/profile.ts): V8's sampling profiler in this process, started
 * by `SIGUSR2` (after the warm-up, so start-up and JIT warm-up stay out) and written to the file as a
 * `.cpuprofile` before the process exits on `SIGTERM`.
 */
async function cpuProfiler(file: string): Promise<{ stop(): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  let started: Promise<unknown> | undefined;
  process.on('SIGUSR2', () => {
    started ??= session.post('Profiler.start');
  });
  return {
    async stop() {
      if (started === undefined) return;
      await started;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
