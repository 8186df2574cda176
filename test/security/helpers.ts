/**
 * Shared helpers of the security suites: both reference servers in-process on loopback ports, raw
 * HTTP (node:http, so repeated headers stay repeated and oversized ones reach Node's parser), and the
 * one identity-echoing call of each server.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fetchRequestHandler, type FetchCreateContextFnOptions } from '@trpc/server/adapters/fetch';
import { createYoga, type Plugin, type YogaLogger } from 'graphql-yoga';
import type { ClerkAuth } from 'clerk-api-auth';
import { useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { clerkResponseMeta, createClerkContext } from 'clerk-api-auth/trpc';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { createNotesSchema } from '../../examples/graphql-yoga/schema.js';
import { NotesStore } from '../../examples/shared/notes.js';
import { noteUser, serve } from '../../examples/shared/serve.js';
import { appRouter, startTrpcServer, type TrpcServer } from '../../examples/trpc/server.js';
import type { AppContext } from '../../examples/trpc/trpc.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: 'GET' | 'POST';
  /** Header lines, in order; a name may repeat (sent as separate lines). */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string;
  /** The request fails (and so does the test) if no complete answer arrives within this bound. Default 15 s. */
  timeoutMs?: number;
}

/**
 * One HTTP/1.1 request over a fresh loopback connection with exactly the header lines given.
 * `fetch` would merge repeated headers into one and refuse some values; node:http sends them as they are.
 */
export function raw(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  // With raw header lines node:http adds nothing, not even Host (HTTP/1.1 requires it).
  const flat: string[] = ['host', target.host];
  for (const [name, value] of options.headers ?? []) flat.push(name, value);
  if (options.body !== undefined) flat.push('content-length', String(Buffer.byteLength(options.body)));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET', headers: flat, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    const bound = options.timeoutMs ?? 15_000;
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${bound} ms`)), bound);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The GraphQL operation each hostile request sends: guarded, and echoing the caller's identity. */
export const GRAPHQL_GUARDED = '{ health notes { id authorId } }';
/** A guarded mutation: rejected whole (401) even for a caller the server sees as anonymous. */
export const GRAPHQL_MUTATION = 'mutation { createNote(text: "hostile") { id authorId } }';

export const trpcWhoami = (trpcUrl: string, headers: ReadonlyArray<readonly [string, string]>, timeoutMs?: number): Promise<RawResponse> =>
  raw(`${trpcUrl}/whoami`, { headers, ...(timeoutMs !== undefined && { timeoutMs }) });

export const graphqlPost = (graphqlUrl: string, query: string, headers: ReadonlyArray<readonly [string, string]>, timeoutMs?: number): Promise<RawResponse> =>
  raw(graphqlUrl, {
    method: 'POST',
    headers: [['content-type', 'application/json'], ['accept', 'application/graphql-response+json, application/json'], ...headers],
    body: JSON.stringify({ query }),
    ...(timeoutMs !== undefined && { timeoutMs }),
  });

export interface TrpcErrorBody {
  error?: { message?: string; data?: { code?: string; httpStatus?: number } };
  result?: { data?: unknown };
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export function json<T>(response: RawResponse): T {
  try {
    return JSON.parse(response.body) as T;
  } catch {
    throw new Error(`not JSON (status ${response.status}): ${response.body.slice(0, 200)}`);
  }
}

export interface Servers {
  trpc: TrpcServer;
  graphql: GraphQLServer;
  /** Access-log lines of both servers, in order. */
  log: string[];
  close(): Promise<void>;
}

/** Both reference servers, configured from `env` only (as deployed), on free loopback ports. */
export async function startReferenceServers(env: NodeJS.ProcessEnv): Promise<Servers> {
  const log: string[] = [];
  const sink = (line: string): void => {
    log.push(line);
  };
  const trpc = await startTrpcServer({ port: 0, env, log: sink });
  const graphql = await startGraphQLServer({ port: 0, env, log: sink }).catch(async (error: unknown) => {
    await trpc.close();
    throw error;
  });
  return {
    trpc,
    graphql,
    log,
    async close() {
      await Promise.all([trpc.close(), graphql.close()]);
    },
  };
}

export interface AppServers {
  trpcUrl: string;
  graphqlUrl: string;
  log: string[];
  close(): Promise<void>;
}

/**
 * The reference app's router and schema, served exactly as examples/ serve them, but with a
 * `ClerkAuth` built in code: for the options the env-only reference servers cannot take
 * (`issuer`, `audience`, `apiTimeoutMs`), and for the most verbose logging.
 */
export async function startReferenceApp(
  clerkAuth: ClerkAuth,
  options: { trpcOnError?: (error: unknown) => void; yogaLogging?: boolean | YogaLogger | 'debug'; yogaDevErrors?: boolean } = {},
): Promise<AppServers> {
  const log: string[] = [];
  const sink = (line: string): void => {
    log.push(line);
  };
  const notes = new NotesStore();
  const clerkContext = createClerkContext(clerkAuth);
  const createContext = async (opts: FetchCreateContextFnOptions): Promise<AppContext> => {
    const ctx = await clerkContext(opts);
    noteUser(opts.req, ctx.auth.userId);
    return { ...ctx, notes };
  };
  const trpc = await serve(
    (req) =>
      fetchRequestHandler({
        endpoint: '/trpc',
        req,
        router: appRouter,
        createContext,
        responseMeta: clerkResponseMeta,
        ...(options.trpcOnError && { onError: ({ error }: { error: unknown }) => options.trpcOnError?.(error) }),
      }),
    { port: 0, name: 'trpc', log: sink },
  );
  // The access log's user, as examples/graphql-yoga/server.ts records it.
  const accessLogUser: Plugin<ClerkGraphQLContext> = {
    onContextBuilding: () => ({ context }) => {
      const { auth, request } = context as Partial<ClerkGraphQLContext> & { request?: Request };
      if (request && auth) noteUser(request, auth.userId);
    },
  };
  const yoga = createYoga({
    schema: createNotesSchema(new NotesStore()),
    graphqlEndpoint: '/graphql',
    plugins: [useClerk(clerkAuth), accessLogUser],
    maskedErrors: { isDev: options.yogaDevErrors ?? false },
    landingPage: false,
    logging: options.yogaLogging ?? false,
  });
  const graphql = await serve((request) => yoga.fetch(request), { port: 0, name: 'graphql', log: sink });
  return {
    trpcUrl: `${trpc.url}/trpc`,
    graphqlUrl: `${graphql.url}/graphql`,
    log,
    async close() {
      await Promise.all([trpc.close(), graphql.close()]);
    },
  };
}

/** Resolves once `predicate()` holds, polling; rejects after `timeoutMs`. Never asserts a time. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Base64url of a string or of JSON. */
export const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The decoded header and payload of a compact JWT (no verification). */
export function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h = '', p = '', s = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>, signature: s };
}

/** The environment of a deployment verifying with the given keys (nothing inherited from the test process). */
export function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, CLERK_TELEMETRY_DISABLED: '1', ...vars };
}
