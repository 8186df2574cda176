/**
 * Offline testing for Clerk-protected APIs: a test issuer that mints real Clerk-format tokens with a
 * local key pair, a loopback stand-in for Clerk's Backend API, and webhook deliveries signed the way
 * Clerk (Svix) signs them.
 *
 * @packageDocumentation
 */
export { createTestIssuer } from './test-issuer.js';
export type { TestIssuer, TestIssuerOptions, TestServerEnv, SessionTokenOptions, M2MTokenOptions, OAuthTokenOptions, OpaqueTokenRecord, JwtSignOptions } from './test-issuer.js';
export { startFakeClerkApi } from './fake-clerk-api.js';
export type { FakeClerkApi, FakeClerkApiOptions, FakeApiFault, FakeOrganization, FakeRequestRecord, FakeUser } from './fake-clerk-api.js';
export { createWebhookSigningSecret, signWebhook } from './webhooks.js';
export type { SignedWebhook, SignWebhookOptions, WebhookDeliveryOptions, WebhookEventInput } from './webhooks.js';
