/**
 * The reference app's tRPC router on tRPC's aws-lambda adapter, served locally: the Lambda handler
 * (handler.ts) behind a small API Gateway stand-in (api-gateway.ts) that turns each HTTP request into
 * the event AWS would deliver. `LAMBDA_EVENT` picks the event: `v2` (HTTP API / function URL,
 * default), `v1` (REST API) or `alb` (Application Load Balancer); v1 and ALB keep header names as the
 * client sent them. Configured only from the environment (CLERK_SECRET_KEY, CLERK_JWT_KEY,
 * CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES, CLERK_API_URL, LAMBDA_EVENT, PORT — default 4005).
 *
 *   npm run example:trpc-lambda
 *
 * `startTrpcLambdaServer({ port, env })` starts the same server in-process (tests use it).
 */
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { admittedAuth } from 'clerk-api-auth/trpc';
import { callerName } from '../shared/caller-name.js';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { eventShapeFrom, serveLambda, type LambdaEventShape } from './api-gateway.js';
import type { AppContext } from '../trpc/trpc.js';
import { createLambdaHandler } from './handler.js';

export interface TrpcLambdaServerOptions {
  /** Port to listen on; 0 for a free one. Default: `PORT` from `env`, else 4005. */
  port?: number;
  /** Address to listen on. Default: every address, as `node:http` does. */
  host?: string;
  /** The event shape. Default: `LAMBDA_EVENT` from `env`, else `v2`. */
  shape?: LambdaEventShape;
  /** Where configuration is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

export interface TrpcLambdaServer {
  /** Base URL of the tRPC endpoint, e.g. `http://127.0.0.1:4005/trpc`. */
  url: string;
  port: number;
  shape: LambdaEventShape;
  clerk: ClerkSetup;
  notes: NotesStore;
  close(): Promise<void>;
}

function portFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim();
  if (!raw) return 4005;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535; got ${JSON.stringify(raw)}.`);
  return port;
}

/** Starts the Lambda handler behind the local API Gateway stand-in. */
export async function startTrpcLambdaServer(options: TrpcLambdaServerOptions = {}): Promise<TrpcLambdaServer> {
  const env = options.env ?? process.env;
  const port = options.port ?? portFrom(env);
  const shape = options.shape ?? eventShapeFrom(env.LAMBDA_EVENT);
  const log = options.log ?? ((line: string) => console.log(line));
  const clerk = await loadClerk(env, 'trpc-lambda');
  const notes = new NotesStore();
  // Each invocation's context, for the access log: who its guards admitted (a user or a machine).
  const contexts = new WeakMap<Context, AppContext>();
  const handler = createLambdaHandler({ clerkAuth: clerk.clerkAuth, notes, onContext: (context, ctx) => contexts.set(context, ctx) });
  const who = (context: Context): string => {
    const ctx = contexts.get(context);
    return callerName(ctx === undefined ? undefined : admittedAuth(ctx));
  };

  let gateway;
  try {
    gateway = await serveLambda(handler, {
      port,
      shape,
      ...(options.host !== undefined && { host: options.host }),
      onResponse: ({ method, path, status, context, ms }) => log(`trpc-lambda ${method} ${path} ${status} ${who(context)} ${ms.toFixed(1)}ms`),
    });
  } catch (error) {
    await clerk.close();
    throw error;
  }
  return {
    url: `${gateway.url}/trpc`,
    port: gateway.port,
    shape,
    clerk,
    notes,
    async close() {
      await gateway.close();
      await clerk.close();
    },
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  startTrpcLambdaServer().then(
    (server) => {
      console.log(`trpc-lambda: listening on http://localhost:${server.port}/trpc (LAMBDA_EVENT=${server.shape})`);
      const stop = () => {
        void server.close().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(`trpc-lambda: cannot start: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
