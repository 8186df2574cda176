/**
 * The reference app's tRPC router on Fastify 5, through tRPC's fastify adapter, mounted at `/trpc`
 * (HTTP, and SSE for `notes.onAdded`). Configured only from the environment (CLERK_SECRET_KEY,
 * CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES, CLERK_API_URL, PORT — default 4004).
 *
 *   npm run example:trpc-fastify
 *
 * `startTrpcFastifyServer({ port, env })` starts the same server in-process (tests use it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { fastifyTRPCPlugin, type CreateFastifyContextOptions, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyRequest } from 'fastify';
import { admittedAuth, clerkResponseMeta, createClerkContext } from 'clerk-api-auth/trpc';
import { callerName } from '../shared/caller-name.js';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { appRouter, type AppRouter } from '../trpc/router.js';
import type { AppContext } from '../trpc/trpc.js';

export interface TrpcFastifyServerOptions {
  /** Port to listen on; 0 for a free one. Default: `PORT` from `env`, else 4004. */
  port?: number;
  /** Address to listen on. Default: every address, as `node:http` does. */
  host?: string;
  /** Where configuration is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface TrpcFastifyServer {
  /** Base URL of the tRPC endpoint, e.g. `http://127.0.0.1:4004/trpc`. */
  url: string;
  port: number;
  clerk: ClerkSetup;
  notes: NotesStore;
  close(): Promise<void>;
}

function admittedOf(ctx: AppContext | undefined) {
  return ctx === undefined ? undefined : admittedAuth(ctx);
}

function portFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim();
  if (!raw) return 4004;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535; got ${JSON.stringify(raw)}.`);
  return port;
}

/** Starts the reference tRPC server on Fastify. */
export async function startTrpcFastifyServer(options: TrpcFastifyServerOptions = {}): Promise<TrpcFastifyServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? portFrom(env);
  const log = options.log ?? ((line: string) => console.log(line));
  const clerk = await loadClerk(env, 'trpc-fastify');
  const notes = new NotesStore();
  const clerkContext = createClerkContext(clerk.clerkAuth);
  // Each request's context, for the access log: who its guards admitted (a user or a machine).
  const contexts = new WeakMap<FastifyRequest, AppContext>();

  const createContext = async (opts: CreateFastifyContextOptions): Promise<AppContext> => {
    const ctx: AppContext = { ...(await clerkContext(opts)), notes };
    contexts.set(opts.req, ctx);
    return ctx;
  };

  let server: Server | undefined;
  const app = Fastify({
    // Node's own http server, listening as the other reference servers do (every address by default).
    serverFactory: (handler) => (server = createServer(handler)),
    // A batch names all its procedures in the path (`/trpc/whoami,notes.list,...`).
    routerOptions: { maxParamLength: 5000 },
    logger: false,
  });
  app.addHook('onResponse', (request, reply, done) => {
    const path = request.url.split('?')[0];
    log(`trpc-fastify ${request.method} ${path} ${reply.statusCode} ${callerName(admittedOf(contexts.get(request)))} ${reply.elapsedTime.toFixed(1)}ms`);
    done();
  });
  // RFC 9112 §3.2: a Host that is not a host is the client's error (tRPC builds the request URL from it): 400, not a 500.
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (host === undefined) return;
    try {
      new URL(`http://${host}`);
    } catch {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'The Host header is not a valid host.' } });
    }
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'The tRPC API is served under /trpc.' } });
  });
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext,
      // A subscription refused by a guard answers 401/403 to plain HTTP clients (EventSource keeps tRPC's in-stream error).
      responseMeta: clerkResponseMeta,
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`trpc-fastify: ${path ?? '(request)'} failed: ${error.message}`);
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  try {
    await app.ready();
    const http = server as Server;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      if (options.host) http.listen(port, options.host, () => resolve());
      else http.listen(port, () => resolve());
    });
  } catch (error) {
    await app.close();
    await clerk.close();
    throw error;
  }
  const actualPort = ((server as Server).address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}/trpc`,
    port: actualPort,
    clerk,
    notes,
    async close() {
      (server as Server).closeAllConnections();
      await app.close();
      await clerk.close();
    },
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  startTrpcFastifyServer().then(
    (server) => {
      console.log(`trpc-fastify: listening on http://localhost:${server.port}/trpc`);
      const stop = () => {
        void server.close().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(`trpc-fastify: cannot start: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
