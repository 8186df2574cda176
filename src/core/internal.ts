/**
 * The core's glue barrel: everything the integrations (`src/trpc`, `src/graphql`, `src/testing`,
 * `src/client`) use from the core, and the only module of the core they import.
 *
 * NOT PUBLIC. Nothing here is part of the package's API (the public barrel is `./index.ts`); names and
 * signatures change without notice. Do not import it from outside this package.
 *
 * @internal
 * @packageDocumentation
 */
export * from './index.js';
export { authenticateSettled } from './create-clerk-auth.js';
export { challengeOf, denialRank, ResponseChallenge, strongestDenial } from './challenge.js';
export type { Challenge } from './challenge.js';
export { expiredResult, expiryOf, isExpired, runAt, untilExpiry } from './expiry.js';
export { narrow, requestAuth, settledRequestAuth } from './request-auth.js';
export type { RequestAuth } from './request-auth.js';
export { isClerkAuth, resolveClerkAuth } from './resolve-clerk-auth.js';
export { secretKeyRequiredClient } from './clerk-client.js';
export { accepts } from './options.js';
export { isToken68 } from './credentials.js';
export { signedOut } from './verify.js';
export { validateRequirement } from './requirement.js';
export { credentialInputOf } from './credential-input.js';
export { authObjectFor, signedOutFor } from './accepted-auth.js';
export { bytesToBase64Url } from './jwt-key.js';
export { validateStore } from './store.js';
export { STORE_FAILED, storeCall } from './store-call.js';
export { StoreSeal } from './store-seal.js';
export { runOnce } from './idempotency.js';
export type { RunOnceOptions, RunOnceOutcome } from './idempotency.js';
