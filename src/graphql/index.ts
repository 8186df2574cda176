/**
 * Clerk authentication for GraphQL: the GraphQL Yoga plugin `useClerk`, the `@auth`, `@hasRole` and
 * `@hasPermission` schema directives enforced before execution, `clerkDirectiveTransformer` for
 * servers other than Yoga, `clerkGraphQLHttp` for graphql-http and graphql-ws, and `clerkHttpResult`
 * for a plain `graphql()` call (Apollo Server: `clerk-api-auth/apollo`). Needs `graphql` (16 or 17)
 * and `@graphql-tools/utils` (GraphQL Yoga brings it); its types need neither GraphQL Yoga nor
 * Apollo Server.
 *
 * @packageDocumentation
 */
export { useClerk } from './plugin.js';
export type { UseClerkOptions } from './plugin.js';
export type { ClerkEnvelopPlugin } from './envelop-plugin.js';
export { clerkDirectiveTypeDefs, CLERK_EXTENSION_KEY } from './directives.js';
export type { ClerkRuleExtension } from './directives.js';
export { clerkDirectiveTransformer } from './transformer.js';
export { assertEveryFieldGuarded } from './assert-guarded.js';
export type { AssertEveryFieldGuardedOptions } from './assert-guarded.js';
export type { ClerkDirectiveTransformerOptions } from './transformer.js';
export { createClerkGraphQLContext, machineAuthOf } from './context.js';
export type { ClerkGraphQLContext } from './context.js';
export type { ClerkGraphQLErrorExtensions } from './errors.js';
export { clerkHttpResult } from './http-result.js';
export type { ClerkHttpResult } from './http-result.js';
export { clerkGraphQLHttp } from './graphql-http.js';
export type { ClerkGraphQLHttp, GraphQLHttpRequestLike, GraphQLHttpResponse } from './graphql-http.js';
