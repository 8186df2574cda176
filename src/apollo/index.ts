/**
 * Clerk authentication for Apollo Server (5 and 4): `clerkApolloPlugin` enforces the `@auth`,
 * `@hasRole` and `@hasPermission` directives of `clerk-api-auth/graphql` before execution and answers
 * rejected operations with their HTTP status and `WWW-Authenticate`. Build the context with
 * `createClerkGraphQLContext` from `clerk-api-auth/graphql`. Needs `@apollo/server`, `graphql` and
 * `@graphql-tools/utils`; a separate entry point, so that `clerk-api-auth/graphql` never needs
 * Apollo Server's types.
 *
 * @packageDocumentation
 */
export { clerkApolloPlugin } from './plugin.js';
export type { ClerkApolloPluginOptions } from './plugin.js';
