/**
 * The reference app's GraphQL server on Mercurius (Fastify 5) at `/graphql`: the very schema of
 * examples/graphql-yoga (its SDL with the clerk-api-auth directives and its resolvers; Yoga's
 * `createSchema` is graphql-tools' `makeExecutableSchema`), graphql-ws subscriptions over
 * Mercurius's WebSocket, Clerk configured only from the environment.
 *
 *   npm run example:mercurius          # PORT (default 4008), CLERK_SECRET_KEY and/or CLERK_JWT_KEY, ...
 */
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import { clerkMercurius } from 'clerk-api-auth/mercurius';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { createNotesSchema } from '../graphql-yoga/schema.js';

export interface MercuriusServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4008. */
  port?: number;
  /** Where Clerk's configuration and `PORT` come from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface MercuriusServer {
  url: string;
  port: number;
  store: NotesStore;
  clerk: ClerkSetup;
  close(): Promise<void>;
}

/** Starts the Mercurius reference server. */
export async function startMercuriusServer(options: MercuriusServerOptions = {}): Promise<MercuriusServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 4008);
  const log = options.log ?? ((line: string) => console.log(line));
  const clerk = await loadClerk(env, 'mercurius');
  const store = new NotesStore();
  const clerkGraphQL = clerkMercurius(clerk.clerkAuth);

  // One line per request: method, path, status, the caller (or `anonymous`), time. Never a token.
  const users = new WeakMap<FastifyRequest, string>();
  const app = Fastify({ logger: false });
  app.addHook('onResponse', async (request, reply) => {
    const who = users.get(request) ?? 'anonymous';
    log(`mercurius ${request.method} ${request.url.split('?')[0]} ${reply.statusCode} ${who} ${reply.elapsedTime.toFixed(1)}ms`);
  });

  await app.register(mercurius, {
    schema: createNotesSchema(store),
    path: '/graphql',
    ...clerkGraphQL.options,
    // Clerk's context, and the caller noted for the access log.
    context: clerkGraphQL.context((request: FastifyRequest, _reply, { auth }) => {
      if (auth.userId) users.set(request, auth.userId);
      return {};
    }),
    subscription: clerkGraphQL.subscription(),
  });

  const address = await app.listen({ port, host: '::' }).catch(() => app.listen({ port, host: '0.0.0.0' }));
  const bound = app.server.address();
  const actual = typeof bound === 'object' && bound !== null ? bound.port : Number(new URL(address).port);
  return {
    url: `http://127.0.0.1:${actual}/graphql`,
    port: actual,
    store,
    clerk,
    async close() {
      await app.close();
      await clerk.close();
    },
  };
}

async function main(): Promise<void> {
  let server: MercuriusServer;
  try {
    server = await startMercuriusServer();
  } catch (error) {
    // Configuration problems (missing or malformed keys) end here with the message naming the fix.
    console.error(`mercurius: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`mercurius: listening on ${server.url} (HTTP and graphql-ws)`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
