/**
 * Clerk authentication for Mercurius (Fastify's GraphQL server): `clerkMercurius` puts `auth`,
 * `clerk` and `signedOutReason` on the context and enforces `@auth`, `@hasRole` and
 * `@hasPermission` (and `extensions.clerk` rules) with the same decisions as `useClerk` on GraphQL
 * Yoga, answering HTTP 401 / 403 / 400 / 503 with `WWW-Authenticate` / `Retry-After` through
 * Fastify's reply. Needs `mercurius`, `graphql` (16) and `@graphql-tools/utils`.
 *
 * @packageDocumentation
 */
export { clerkMercurius } from './clerk-mercurius.js';
export type {
  ClerkMercurius,
  ClerkMercuriusOptions,
  MercuriusClerkContext,
  MercuriusClerkSubscription,
  MercuriusRequestLike,
  MercuriusSubscriptionLike,
} from './clerk-mercurius.js';
export type { ClerkErrorFormatter, MercuriusErrorFormatter } from './error-formatter.js';
