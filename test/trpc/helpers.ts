/** Shared helpers of the tRPC tests: the reference server in-process, clients, raw HTTP. */
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { EventSource } from 'eventsource';
import { startTrpcServer, type AppRouter, type TrpcServer } from '../../examples/trpc/server.js';

export type { AppRouter };

/** Session token claims used across the suites. */
export const ALICE = { userId: 'user_alice' } as const;
export const ADMIN = { userId: 'user_admin', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } } as const;
export const WRITER = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;

export { envFor } from '../support/env.js';

/** Starts the reference tRPC server in-process on a free loopback port, collecting its access log. */
export async function startExample(env: NodeJS.ProcessEnv): Promise<TrpcServer & { log: string[] }> {
  const log: string[] = [];
  const server = await startTrpcServer({ port: 0, env, log: (line) => log.push(line) });
  return Object.assign(server, { log });
}

/** A typed client over real HTTP (batching on), sending `token` when given. */
export function client(url: string, token?: string | (() => string | Promise<string>)) {
  const headers = async (): Promise<Record<string, string>> => {
    const value = typeof token === 'function' ? await token() : token;
    return value === undefined ? {} : { authorization: `Bearer ${value}` };
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          // EventSource cannot set headers in browsers; the Node ponyfill can, through its fetch.
          eventSourceOptions: async () => {
            const extra = await headers();
            return { fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...extra } }) };
          },
        }),
        false: httpBatchLink({ url, headers }),
      }),
    ],
  });
}

/** An unbatched client, for one call per HTTP request. */
export function singleClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url, headers: () => (token === undefined ? {} : { authorization: `Bearer ${token}` }) })],
  });
}

/** The error a call rejects with, as a `TRPCClientError` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A raw tRPC GET (query), returning status, headers and the parsed body. */
export async function get(url: string, paths: string, options: { token?: string; authorization?: string; batch?: boolean; input?: unknown } = {}) {
  const query = options.batch ? `?batch=1&input=${encodeURIComponent(JSON.stringify(options.input ?? {}))}` : options.input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(options.input))}`;
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  const response = await fetch(`${url}/${paths}${query}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

/** A raw tRPC POST (mutation). */
export async function post(url: string, path: string, input: unknown, token?: string) {
  const response = await fetch(`${url}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(input),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

/** The `error.data.code` of a raw tRPC error body (single call). */
export function errorCode(body: unknown): string | undefined {
  return (body as { error?: { data?: { code?: string } } }).error?.data?.code;
}

/** Resolves once `predicate()` holds, polling; rejects after `timeoutMs`. Never asserts a time. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
