/**
 * Client helpers: outgoing calls carry the Clerk session token and retry once when a fresh token can help
 * (an expired one, or one signed with a rotated key).
 *
 * @packageDocumentation
 */
export { createClerkFetch, isInvalidTokenResponse, isRefreshableTokenResponse } from './fetch.js';
export type { ClerkFetchOptions } from './fetch.js';
export { clerkAuthHeaders, clerkConnectionParams } from './links.js';
export type { TokenGetter } from './get-token.js';
