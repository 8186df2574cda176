/**
 * Client helpers: outgoing calls carry the Clerk session token and retry once when a fresh token can help
 * (an expired one, or one signed with a rotated key); `clerkReverification` makes Clerk's `useReverification`
 * prompt and retry on the servers' reverification answers (tRPC and GraphQL).
 *
 * @packageDocumentation
 */
export { createClerkFetch, isInvalidTokenResponse, isRefreshableTokenResponse } from './fetch.js';
export type { ClerkFetchOptions } from './fetch.js';
export { clerkAuthHeaders, clerkConnectionParams } from './links.js';
export type { TokenGetter } from './get-token.js';
export { clerkReverification, reverificationHintOf } from './reverification.js';
export type { ClerkReverification, ClerkReverificationOptions } from './reverification.js';
