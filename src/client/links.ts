import { readToken, type TokenGetter } from './get-token.js';

/**
 * Headers for tRPC's `httpBatchLink` / `httpLink` (or any client that takes a headers function):
 * `Authorization: Bearer <token>` when there is a token, nothing otherwise. Pair it with
 * `fetch: createClerkFetch({ getToken })` to also retry once on an expired token.
 *
 * @example
 * ```ts
 * import { httpBatchLink } from '@trpc/client';
 * import { clerkAuthHeaders } from 'clerk-api-auth/client';
 *
 * httpBatchLink({ url: '/trpc', headers: clerkAuthHeaders(getToken) });
 * ```
 */
export function clerkAuthHeaders(getToken: TokenGetter): () => Promise<Record<string, string>> {
  return async (): Promise<Record<string, string>> => {
    const token = await readToken(getToken, false);
    return token ? { authorization: `Bearer ${token}` } : {};
  };
}

/**
 * `connectionParams` for tRPC's `createWSClient` / `httpSubscriptionLink` and for graphql-ws's
 * `createClient`: an async getter, so every (re)connection carries a fresh token as `{ token }`,
 * which `createClerkContext` and `useClerk` read.
 *
 * @example
 * ```ts
 * import { createWSClient, wsLink } from '@trpc/client';
 * import { clerkConnectionParams } from 'clerk-api-auth/client';
 *
 * const wsClient = createWSClient({ url: 'ws://localhost:4001/trpc', connectionParams: clerkConnectionParams(getToken) });
 * ```
 */
export function clerkConnectionParams(getToken: TokenGetter): () => Promise<Record<string, string>> {
  return async (): Promise<Record<string, string>> => {
    // A reconnection usually follows an expiry: ask for a fresh token.
    const token = await readToken(getToken, true);
    return token ? { token } : {};
  };
}
