/**
 * The reference app's GraphQL server with a code-first Pothos schema (the same types as
 * examples/graphql-yoga, built without SDL): GraphQL Yoga at `/graphql` (HTTP, SSE and graphql-ws),
 * Clerk configured only from the environment.
 *
 *   npm run example:pothos             # PORT (default 4009), CLERK_SECRET_KEY and/or CLERK_JWT_KEY, ...
 */
import { pathToFileURL } from 'node:url';
import { createYoga, type Plugin } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { noteUser, serve } from '../shared/serve.js';
import { createPothosNotesSchema, type Context } from './schema.js';

export interface PothosServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4009. */
  port?: number;
  /** Where Clerk's configuration and `PORT` come from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface PothosServer {
  url: string;
  port: number;
  store: NotesStore;
  clerk: ClerkSetup;
  close(): Promise<void>;
}

/** Records the caller in the access log (after useClerk has authenticated the request). */
function useAccessLogUser(): Plugin<ClerkGraphQLContext> {
  return {
    onContextBuilding() {
      return ({ context }) => {
        const { auth, request } = context as Partial<Context>;
        if (!request || !auth) return;
        noteUser(request, auth.userId);
      };
    },
  };
}

/** Starts the Pothos reference server. */
export async function startPothosServer(options: PothosServerOptions = {}): Promise<PothosServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 4009);
  const clerk = await loadClerk(env, 'pothos');
  const store = new NotesStore();
  const parties = clerk.clerkAuth.config.authorizedParties;
  const yoga = createYoga({
    schema: createPothosNotesSchema(store),
    graphqlEndpoint: '/graphql',
    plugins: [useClerk(clerk.clerkAuth), useAccessLogUser()],
    // Bearer tokens need no cookies; cookie sessions are same-origin only (the core refuses them cross-site).
    cors: { origin: parties && parties.length > 0 ? [...parties] : '*', credentials: false, exposedHeaders: ['WWW-Authenticate'] },
    maskedErrors: { isDev: false },
    landingPage: false,
    logging: false,
  });

  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  const served = await serve((request) => yoga.fetch(request), { port, name: 'pothos', ...(options.log && { log: options.log }) });
  const wss = new WebSocketServer({ server: served.server, path: yoga.graphqlEndpoint });
  const ws = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    wss,
  );

  return {
    url: `${served.url}${yoga.graphqlEndpoint}`,
    port: served.port,
    store,
    clerk,
    async close() {
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await served.close();
      await clerk.close();
    },
  };
}

async function main(): Promise<void> {
  let server: PothosServer;
  try {
    server = await startPothosServer();
  } catch (error) {
    // Configuration problems (missing or malformed keys) end here with the message naming the fix.
    console.error(`pothos: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`pothos: listening on ${server.url} (HTTP, SSE and graphql-ws)`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
