/**
 * Offline testing for Clerk-protected APIs: a test issuer that mints real Clerk-format tokens with a
 * local key pair, and a loopback stand-in for Clerk's Backend API.
 *
 * @packageDocumentation
 */
export { createTestIssuer } from './test-issuer.js';
export type { TestIssuer, TestIssuerOptions, SessionTokenOptions, M2MTokenOptions, OAuthTokenOptions, OpaqueTokenRecord } from './test-issuer.js';
export { startFakeClerkApi } from './fake-clerk-api.js';
export type { FakeClerkApi, FakeClerkApiOptions, FakeApiFault, FakeOrganization, FakeUser } from './fake-clerk-api.js';
