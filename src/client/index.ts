/**
 * Client helpers: outgoing calls carry the Clerk session token and retry once on an expired one.
 *
 * @packageDocumentation
 */
export { createClerkFetch, isInvalidTokenResponse } from './fetch.js';
export type { ClerkFetchOptions } from './fetch.js';
export { clerkAuthHeaders, clerkConnectionParams } from './links.js';
export type { TokenGetter } from './get-token.js';
