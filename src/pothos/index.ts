/**
 * Clerk rules for code-first Pothos schemas: the `clerk` plugin adds a typed `clerk` option to
 * Pothos's fields, object types, interfaces and root types (`true`, or an `AuthRequirement`), checks
 * every rule when the schema is built, and leaves enforcement to `useClerk` (GraphQL Yoga) or
 * `clerkDirectiveTransformer` / `clerkMercurius` (other servers), which read the rules from the
 * schema. Needs `@pothos/core` 4, `graphql` and `@graphql-tools/utils` (GraphQL Yoga brings it).
 *
 * @packageDocumentation
 */
export { clerkPothosPlugin, PothosClerkPlugin } from './plugin.js';
