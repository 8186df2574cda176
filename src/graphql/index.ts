/**
 * Clerk authentication for GraphQL: the GraphQL Yoga plugin `useClerk`, the `@auth`, `@hasRole` and
 * `@hasPermission` schema directives enforced before execution, and `clerkDirectiveTransformer` for
 * servers other than Yoga. Needs `graphql` (16 or 17) and `@graphql-tools/utils` (GraphQL Yoga
 * brings it).
 *
 * @packageDocumentation
 */
export { useClerk } from './plugin.js';
export type { UseClerkOptions } from './plugin.js';
export { clerkDirectiveTypeDefs, CLERK_EXTENSION_KEY } from './directives.js';
export type { ClerkRuleExtension } from './directives.js';
export { clerkDirectiveTransformer } from './transformer.js';
export type { ClerkDirectiveTransformerOptions } from './transformer.js';
export { createClerkGraphQLContext, machineAuthOf } from './context.js';
export type { ClerkGraphQLContext } from './context.js';
export type { ClerkGraphQLErrorExtensions } from './errors.js';
