/**
 * The reference app's GraphQL server: GraphQL Yoga at `/graphql` (HTTP, SSE and graphql-ws), Clerk
 * configured only from the environment (see the README's "Configuration").
 *
 *   npm run example:graphql            # PORT (default 4002), CLERK_SECRET_KEY and/or CLERK_JWT_KEY, ...
 */
import { pathToFileURL } from 'node:url';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { noteUser, serve } from '../shared/serve.js';
import { createNotesSchema, type Context } from './schema.js';

export interface GraphQLServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4002. */
  port?: number;
  /** Where Clerk's configuration and `PORT` come from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface GraphQLServer {
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

/** What differs between the Yoga reference servers (SDL here, code-first Pothos in examples/pothos). */
export interface YogaNotesServerKind {
  /** The server's name in logs. */
  name: string;
  /** The port when neither `options.port` nor `PORT` says. */
  defaultPort: number;
  /** The notes schema over a store. */
  schema: (store: NotesStore) => GraphQLSchema;
}

/** Starts the GraphQL reference server. */
export function startGraphQLServer(options: GraphQLServerOptions = {}): Promise<GraphQLServer> {
  return startYogaNotesServer({ name: 'graphql', defaultPort: 4002, schema: createNotesSchema }, options);
}

/** Starts a Yoga reference server (HTTP, SSE and graphql-ws on `/graphql`) for a notes schema. */
export async function startYogaNotesServer(kind: YogaNotesServerKind, options: GraphQLServerOptions = {}): Promise<GraphQLServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : kind.defaultPort);
  const clerk = await loadClerk(env, kind.name);
  const store = new NotesStore();
  const parties = clerk.clerkAuth.config.authorizedParties;
  const yoga = createYoga({
    schema: kind.schema(store),
    graphqlEndpoint: '/graphql',
    plugins: [useClerk(clerk.clerkAuth), useAccessLogUser()],
    // Bearer tokens need no cookies; cookie sessions are same-origin only (the core refuses them cross-site).
    cors: { origin: parties && parties.length > 0 ? [...parties] : '*', credentials: false, exposedHeaders: ['WWW-Authenticate'] },
    maskedErrors: { isDev: false },
    landingPage: false,
    logging: false,
  });

  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  const served = await serve((request) => yoga.fetch(request), { port, name: kind.name, ...(options.log && { log: options.log }) });
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

/** Runs a reference server from the command line: starts it, says where, and stops it on SIGINT / SIGTERM. */
export async function runYogaNotesServer(name: string, start: () => Promise<GraphQLServer>): Promise<void> {
  let server: GraphQLServer;
  try {
    server = await start();
  } catch (error) {
    // Configuration problems (missing or malformed keys) end here with the message naming the fix.
    console.error(`${name}: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`${name}: listening on ${server.url} (HTTP, SSE and graphql-ws)`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void runYogaNotesServer('graphql', () => startGraphQLServer());
