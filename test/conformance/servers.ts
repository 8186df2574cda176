/**
 * Every in-process reference server of examples/, started the one way each example starts (its
 * `start*Server` with `port: 0` and an env), behind one shape the conformance cases call.
 */
import { startApolloServer } from '../../examples/apollo/server.js';
import { startExpressServer } from '../../examples/express/server.js';
import { startGraphQLHttpServer } from '../../examples/graphql-http/server.js';
import { startGraphQLServer } from '../../examples/graphql-yoga/server.js';
import { startMercuriusServer } from '../../examples/mercurius/server.js';
import { startPothosServer } from '../../examples/pothos/server.js';
import type { NotesStore } from '../../examples/shared/notes.js';
import { startTrpcFastifyServer } from '../../examples/trpc-fastify/server.js';
import { startTrpcLambdaServer } from '../../examples/trpc-lambda/server.js';
import { startTrpcServer } from '../../examples/trpc/server.js';

/** How a server streams subscriptions, if it does. */
export type Streaming = 'sse' | 'ws' | 'none';

export interface Running {
  /** tRPC: the endpoint base (`…/trpc`); GraphQL: the endpoint (`…/graphql`). */
  url: string;
  store: NotesStore;
  close(): Promise<void>;
}

export interface ConformanceServer {
  name: string;
  kind: 'trpc' | 'graphql';
  subscriptions: Streaming;
  start(env: NodeJS.ProcessEnv): Promise<Running>;
}

const quiet = (): void => {};

export const SERVERS: ConformanceServer[] = [
  {
    name: 'tRPC fetch (node:http)',
    kind: 'trpc',
    subscriptions: 'sse',
    start: async (env) => {
      const s = await startTrpcServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.notes, close: () => s.close() };
    },
  },
  {
    name: 'tRPC Express /trpc',
    kind: 'trpc',
    subscriptions: 'sse',
    start: async (env) => {
      const s = await startExpressServer({ port: 0, env, log: quiet });
      return { url: `${s.url}/trpc`, store: s.notes, close: () => s.close() };
    },
  },
  {
    name: 'tRPC Fastify',
    kind: 'trpc',
    subscriptions: 'sse',
    start: async (env) => {
      const s = await startTrpcFastifyServer({ port: 0, host: '127.0.0.1', env, log: quiet });
      return { url: s.url, store: s.notes, close: () => s.close() };
    },
  },
  ...(['v2', 'v1', 'alb'] as const).map(
    (shape): ConformanceServer => ({
      name: `tRPC Lambda ${shape}`,
      kind: 'trpc',
      // A buffered Lambda response never ends: subscriptions are refused as not supported.
      subscriptions: 'none',
      start: async (env) => {
        const s = await startTrpcLambdaServer({ port: 0, host: '127.0.0.1', shape, env, log: quiet });
        return { url: s.url, store: s.notes, close: () => s.close() };
      },
    }),
  ),
  {
    name: 'GraphQL Yoga',
    kind: 'graphql',
    subscriptions: 'sse',
    start: async (env) => {
      const s = await startGraphQLServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.store, close: () => s.close() };
    },
  },
  {
    name: 'GraphQL Express /graphql',
    kind: 'graphql',
    subscriptions: 'sse',
    start: async (env) => {
      const s = await startExpressServer({ port: 0, env, log: quiet });
      return { url: `${s.url}/graphql`, store: s.notes, close: () => s.close() };
    },
  },
  {
    name: 'GraphQL Apollo',
    kind: 'graphql',
    // Apollo Server has no subscriptions over HTTP.
    subscriptions: 'none',
    start: async (env) => {
      const s = await startApolloServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.store, close: () => s.close() };
    },
  },
  {
    name: 'GraphQL graphql-http',
    kind: 'graphql',
    subscriptions: 'ws',
    start: async (env) => {
      const s = await startGraphQLHttpServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.store, close: () => s.close() };
    },
  },
  {
    name: 'GraphQL Mercurius',
    kind: 'graphql',
    subscriptions: 'ws',
    start: async (env) => {
      const s = await startMercuriusServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.store, close: () => s.close() };
    },
  },
  {
    name: 'GraphQL Pothos',
    kind: 'graphql',
    subscriptions: 'ws',
    start: async (env) => {
      const s = await startPothosServer({ port: 0, env, log: quiet });
      return { url: s.url, store: s.store, close: () => s.close() };
    },
  },
];
