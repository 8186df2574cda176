/**
 * clerk-api-auth: Clerk authentication for tRPC v11 and GraphQL Yoga v5 APIs.
 *
 * The root export is the framework-free core. Integrations live in `clerk-api-auth/trpc` and
 * `clerk-api-auth/graphql`; the offline test issuer in `clerk-api-auth/testing`; outgoing-call helpers
 * in `clerk-api-auth/client`.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
