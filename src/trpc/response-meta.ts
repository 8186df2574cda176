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
 * A `responseMeta` for the HTTP adapters that gives a subscription refused by a guard its HTTP
 * status. tRPC answers every SSE subscription with 200 and reports errors inside the stream, which
 * is what `EventSource` (and so `httpSubscriptionLink`) needs: a non-200 answer would hide the
 * error's code from it. Other clients — `curl`, a proxy, a health check — see the real 401, 403 or
 * 503 instead. Calls that are not subscriptions keep the status tRPC computes.
 *
 * Compose it with your own `responseMeta` by spreading both results.
 *
 * @example
 * ```ts
 * import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
 * import { clerkResponseMeta } from 'clerk-api-auth/trpc';
 *
 * fetchRequestHandler({ endpoint: '/trpc', req, router, createContext, responseMeta: clerkResponseMeta });
 * ```
 */
export function clerkResponseMeta(opts: ClerkResponseMetaOptions): { status?: number } {
  if (opts.type !== 'subscription' || opts.ctx === null || typeof opts.ctx !== 'object') return {};
  const sink = (opts.ctx as ContextLike)[CLERK_STATE]?.sink;
  const challenge = sink?.challenge.challenge;
  if (!sink || !challenge || sink.eventStream) return {};
  return { status: challenge.status };
}
