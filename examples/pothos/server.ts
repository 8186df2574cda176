/**
 * The reference app's GraphQL server with a code-first Pothos schema (the same types as
 * examples/graphql-yoga, built without SDL): GraphQL Yoga at `/graphql` (HTTP, SSE and graphql-ws),
 * Clerk configured only from the environment. Everything but the schema is the Yoga reference server's.
 *
 *   npm run example:pothos             # PORT (default 4009), CLERK_SECRET_KEY and/or CLERK_JWT_KEY, ...
 */
import { pathToFileURL } from 'node:url';
import { runYogaNotesServer, startYogaNotesServer, type GraphQLServer, type GraphQLServerOptions } from '../graphql-yoga/server.js';
import { createPothosNotesSchema } from './schema.js';

/** Options of the Pothos reference server (as the Yoga one's; default port 4009). */
export type PothosServerOptions = GraphQLServerOptions;
/** A running Pothos reference server. */
export type PothosServer = GraphQLServer;

/** Starts the Pothos reference server. */
export function startPothosServer(options: PothosServerOptions = {}): Promise<PothosServer> {
  return startYogaNotesServer({ name: 'pothos', defaultPort: 4009, schema: createPothosNotesSchema }, options);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void runYogaNotesServer('pothos', () => startPothosServer());
