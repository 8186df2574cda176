/**
 * The reference app's GraphQL schema on `graphql-http` (Node's `http` server) at `/graphql`, with
 * `graphql-ws` on the same server and path for subscriptions: the same SDL, directives and resolvers
 * as the GraphQL Yoga server, enforced by `clerkDirectiveTransformer`; `clerkGraphQLHttp` builds the
 * context and gives rejected operations their HTTP status. Configured only from the environment:
 * `CLERK_SECRET_KEY` and/or `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`,
 * `CLERK_API_URL`, `PORT` (default 4007).
 *
 *   npm run example:graphql-http
 *
 * `startGraphQLHttpServer({ port, env })` starts the same server in-process (tests use it).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createHandler } from 'graphql-http/lib/use/http';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { clerkDirectiveTransformer, clerkGraphQLHttp } from 'clerk-api-auth/graphql';
import { createNotesSchema } from '../graphql-yoga/schema.js';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';

export interface GraphQLHttpServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4007. */
  port?: number;
  /** Where Clerk's configuration and `PORT` come from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface GraphQLHttpServer {
  /** The GraphQL endpoint (HTTP; `ws://` on the same path for graphql-ws), e.g. `http://127.0.0.1:4007/graphql`. */
  url: string;
  port: number;
  store: NotesStore;
  clerk: ClerkSetup;
  close(): Promise<void>;
}

/** Starts the graphql-http reference server. */
export async function startGraphQLHttpServer(options: GraphQLHttpServerOptions = {}): Promise<GraphQLHttpServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 4007);
  const log = options.log ?? ((line: string) => console.log(line));
  const clerk = await loadClerk(env, 'graphql-http');
  const store = new NotesStore();

  const schema = clerkDirectiveTransformer(createNotesSchema(store), { clerkAuth: clerk.clerkAuth });
  const clerkGraphQL = clerkGraphQLHttp(clerk.clerkAuth);
  // The caller of each request, for the access log (set when the context is built).
  const callers = new WeakMap<IncomingMessage, string>();
  const handle = createHandler({
    schema,
    context: async (request) => {
      const context = await clerkGraphQL.http.context(request);
      if (context.auth.userId) callers.set(request.raw, context.auth.userId);
      return context;
    },
    onOperation: clerkGraphQL.http.onOperation,
  });

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    res.once('finish', () => {
      log(`graphql-http ${req.method} ${path} ${res.statusCode} ${callers.get(req) ?? 'anonymous'} ${(performance.now() - started).toFixed(1)}ms`);
    });
    if (path !== '/graphql') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    void handle(req, res);
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const ws = useServer({ schema, ...clerkGraphQL.ws }, wss);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // No host: Node listens on every address (IPv6 and IPv4), so `localhost` works either way.
    server.listen(port, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}/graphql`,
    port: bound,
    store,
    clerk,
    async close() {
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await clerk.close();
    },
  };
}

async function main(): Promise<void> {
  let server: GraphQLHttpServer;
  try {
    server = await startGraphQLHttpServer();
  } catch (error) {
    // Configuration problems (missing or malformed keys) end here with the message naming the fix.
    console.error(`graphql-http: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`graphql-http: listening on ${server.url} (graphql-http, and graphql-ws on the same path)`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
