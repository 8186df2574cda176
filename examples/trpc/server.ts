/**
 * The reference app's tRPC server: the fetch adapter mounted at `/trpc` on Node's http server,
 * configured only from the environment (CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY,
 * CLERK_AUTHORIZED_PARTIES, CLERK_API_URL, PORT — default 4001).
 *
 *   npm run example:trpc
 *
 * `startTrpcServer({ port, env })` starts the same server in-process (tests use it).
 */
import { pathToFileURL } from 'node:url';
import { fetchRequestHandler, type FetchCreateContextFnOptions } from '@trpc/server/adapters/fetch';
import { clerkResponseMeta, createClerkContext } from 'clerk-api-auth/trpc';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { noteUser, serve } from '../shared/serve.js';
import { appRouter } from './router.js';
import type { AppContext } from './trpc.js';

export { appRouter, type AppRouter } from './router.js';

/**
 * Options of `startTrpcServer`.
 */
export interface TrpcServerOptions {
  /** Port to listen on; 0 for a free one. Default: `PORT` from `env`, else 4001. */
  port?: number;
  /** Where configuration is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

/** A running reference tRPC server. */
export interface TrpcServer {
  /** Base URL of the tRPC endpoint, e.g. `http://127.0.0.1:4001/trpc`. */
  url: string;
  port: number;
  /** The Clerk setup it runs with (the dev issuer, when no key was configured). */
  clerk: ClerkSetup;
  notes: NotesStore;
  close(): Promise<void>;
}

function portFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim();
  if (!raw) return 4001;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535; got ${JSON.stringify(raw)}.`);
  return port;
}

/** Starts the reference tRPC server. */
export async function startTrpcServer(options: TrpcServerOptions = {}): Promise<TrpcServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? portFrom(env);
  const clerk = await loadClerk(env, 'trpc');
  const notes = new NotesStore();
  const clerkContext = createClerkContext(clerk.clerkAuth);

  const createContext = async (opts: FetchCreateContextFnOptions): Promise<AppContext> => {
    const ctx = await clerkContext(opts);
    noteUser(opts.req, ctx.auth.userId);
    return { ...ctx, notes, noteCaller: (id) => noteUser(opts.req, id) };
  };

  const handler = (req: Request): Promise<Response> | Response => {
    const { pathname } = new URL(req.url);
    if (pathname !== '/trpc' && !pathname.startsWith('/trpc/')) {
      return Response.json({ error: { code: 'NOT_FOUND', message: 'The tRPC API is served under /trpc.' } }, { status: 404 });
    }
    return fetchRequestHandler({
      endpoint: '/trpc',
      req,
      router: appRouter,
      createContext,
      // A subscription refused by a guard answers 401/403 to plain HTTP clients (EventSource keeps tRPC's in-stream error).
      responseMeta: clerkResponseMeta,
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`trpc: ${path ?? '(request)'} failed: ${error.message}`);
      },
    });
  };

  let served;
  try {
    served = await serve(handler, { port, name: 'trpc', ...(options.log && { log: options.log }) });
  } catch (error) {
    await clerk.close();
    throw error;
  }
  return {
    url: `${served.url}/trpc`,
    port: served.port,
    clerk,
    notes,
    async close() {
      await served.close();
      await clerk.close();
    },
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  startTrpcServer().then(
    (server) => {
      console.log(`trpc: listening on http://localhost:${server.port}/trpc`);
      const stop = () => {
        void server.close().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
