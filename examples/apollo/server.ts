/**
 * The reference app's GraphQL schema on Apollo Server 5, hosted by Fastify 5 (`@as-integrations/fastify`)
 * at `/graphql`: the same SDL, directives and resolvers as the GraphQL Yoga server, enforced by
 * `clerkApolloPlugin`, with the context from `createClerkGraphQLContext`. Configured only from the
 * environment: `CLERK_SECRET_KEY` and/or `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`,
 * `CLERK_AUTHORIZED_PARTIES`, `CLERK_API_URL`, `PORT` (default 4006). Apollo Server has no
 * subscriptions over HTTP: `noteAdded` is in the schema and served by the other servers.
 *
 *   npm run example:apollo
 *
 * `startApolloServer({ port, env })` starts the same server in-process (tests use it).
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ApolloServer } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { type FastifyRequest } from 'fastify';
import { clerkApolloPlugin } from 'clerk-api-auth/apollo';
import { createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { createNotesSchema } from '../graphql-yoga/schema.js';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';

export interface ApolloServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4006. */
  port?: number;
  /** Where Clerk's configuration and `PORT` come from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface RunningApolloServer {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4006/graphql`. */
  url: string;
  port: number;
  store: NotesStore;
  clerk: ClerkSetup;
  close(): Promise<void>;
}

/** Starts the Apollo Server reference server. */
export async function startApolloServer(options: ApolloServerOptions = {}): Promise<RunningApolloServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 4006);
  const log = options.log ?? ((line: string) => console.log(line));
  const clerk = await loadClerk(env, 'apollo');
  const store = new NotesStore();

  const app = Fastify({ logger: false });
  // The caller of each request, for the access log (set when the context is built).
  const callers = new WeakMap<FastifyRequest, string>();
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0];
    log(`apollo ${request.method} ${path} ${reply.statusCode} ${callers.get(request) ?? 'anonymous'} ${reply.elapsedTime.toFixed(1)}ms`);
  });

  const apollo = new ApolloServer<ClerkGraphQLContext>({
    schema: createNotesSchema(store),
    plugins: [clerkApolloPlugin(clerk.clerkAuth), fastifyApolloDrainPlugin(app)],
    // Never a stack trace in a response, whatever NODE_ENV says.
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();

  const clerkContext = createClerkGraphQLContext(clerk.clerkAuth);
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    // The Node request itself: it shows every Authorization header the client sent.
    context: async (request) => {
      const context = await clerkContext(request.raw);
      if (context.auth.userId) callers.set(request, context.auth.userId);
      return context;
    },
  });
  // Every address, as Node's own default (IPv6 and IPv4); IPv4 only where the host has no IPv6.
  await app.listen({ port, host: '::' }).catch(async (error: { code?: string }) => {
    if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') throw error;
    await app.listen({ port, host: '0.0.0.0' });
  });
  const { port: bound } = app.server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}/graphql`,
    port: bound,
    store,
    clerk,
    async close() {
      // Apollo drains first: its Fastify drain plugin closes the server once in-flight requests end.
      await apollo.stop();
      await clerk.close();
    },
  };
}

async function main(): Promise<void> {
  let server: RunningApolloServer;
  try {
    server = await startApolloServer();
  } catch (error) {
    // Configuration problems (missing or malformed keys) end here with the message naming the fix.
    console.error(`apollo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`apollo: listening on ${server.url} (Apollo Server 5 on Fastify)`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
