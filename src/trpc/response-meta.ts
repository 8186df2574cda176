import { CLERK_STATE, type ContextLike } from './state.js';

/**
 * What `clerkResponseMeta` reads from tRPC's `responseMeta` options.
 *
 * @example
 * ```ts
 * const opts: ClerkResponseMetaOptions = { ctx, type: 'subscription' };
 * ```
 */
export interface ClerkResponseMetaOptions {
  /** The request's context, when it was created. */
  ctx?: unknown;
  /** The type of the procedures called. */
  type: 'query' | 'mutation' | 'subscription' | 'unknown';
}

/**
 * What `clerkResponseMeta` returns: tRPC's `responseMeta` result, with only what this request needs.
 *
 * @example
 * ```ts
 * const meta: ClerkResponseMeta = clerkResponseMeta(opts);
 * const headers = new Headers(meta.headers);
 * ```
 */
export interface ClerkResponseMeta {
  /** The status of a subscription refused by a guard, for clients that are not EventSource. */
  status?: number;
  /**
   * `WWW-Authenticate` and `Retry-After` of the request's denials, on adapters with no response
   * object to set them on (AWS Lambda). Other adapters get them set directly by the guards.
   */
  headers?: Headers;
}

/**
 * The `responseMeta` for tRPC's HTTP adapters. It does what the adapter's own response object
 * cannot:
 *
 * - AWS Lambda (`awsLambdaRequestHandler`) hands `createContext` no response object, so the
 *   headers of a denial — `WWW-Authenticate` (which `createClerkFetch` and other clients read to
 *   refresh an expired token) and `Retry-After` — are kept in the context and returned here as
 *   `headers`. This adapter needs it: without it a 401 carries no challenge (the context warns once).
 * - A subscription refused by a guard gets its HTTP status. tRPC answers every SSE subscription
 *   with 200 and reports errors inside the stream, which is what `EventSource` (and so
 *   `httpSubscriptionLink`) needs: a non-200 answer would hide the error's code from it. Other
 *   clients — `curl`, a proxy, a health check — see the real 401, 403 or 503 instead.
 *
 * Calls that are not subscriptions keep the status tRPC computes (from the denial's tRPC code; a
 * mixed batch answers 207). To add your own headers, build on its result.
 *
 * @example
 * ```ts
 * import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
 * import { clerkResponseMeta } from 'clerk-api-auth/trpc';
 *
 * fetchRequestHandler({ endpoint: '/trpc', req, router, createContext, responseMeta: clerkResponseMeta });
 * ```
 *
 * @example With a responseMeta of your own (AWS Lambda)
 * ```ts
 * import { awsLambdaRequestHandler } from '@trpc/server/adapters/aws-lambda';
 *
 * export const handler = awsLambdaRequestHandler({
 *   router,
 *   createContext,
 *   responseMeta(opts) {
 *     const clerk = clerkResponseMeta(opts);
 *     const headers = new Headers(clerk.headers);
 *     headers.set('cache-control', 'no-store');
 *     return { ...clerk, headers };
 *   },
 * });
 * ```
 */
export function clerkResponseMeta(opts: ClerkResponseMetaOptions): ClerkResponseMeta {
  if (opts.ctx === null || typeof opts.ctx !== 'object') return {};
  const sink = (opts.ctx as ContextLike)[CLERK_STATE]?.sink;
  if (!sink) return {};
  sink.deferred?.delivered();
  const challenge = sink.challenge.challenge;
  if (!challenge) return {};
  const meta: ClerkResponseMeta = {};
  if (sink.deferred !== null) meta.headers = new Headers(challenge.headers);
  if (opts.type === 'subscription' && !sink.eventStream) meta.status = challenge.status;
  return meta;
}
