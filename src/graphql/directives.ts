import type { AuthRequirement } from '../core/internal.js';

/**
 * The SDL of the three authorization directives. Put it first in your type definitions; the rules
 * this package enforces are read from exactly these definitions.
 *
 * Semantics (all three, on `OBJECT | INTERFACE | FIELD_DEFINITION`):
 * - `@auth`: the caller must be signed in with a valid, active Clerk **session** token. Machine
 *   tokens (M2M, API keys, OAuth) do not satisfy it.
 * - `@hasRole(role: ...)`: signed in (as `@auth`) **and** the active organization role is one of
 *   `role`. GraphQL coerces a single string to a list of one, so `@hasRole(role: "org:admin")` and
 *   `@hasRole(role: ["org:admin", "org:owner"])` both work; a list means any one of them. The `org:`
 *   prefix is optional, as in Clerk's `has({ role })`.
 * - `@hasPermission(permission: ...)`: signed in **and** holding one of the listed organization
 *   permissions (`org:<feature>:<action>`); a list means any one of them.
 *
 * Where they apply:
 * - On a field: that field.
 * - On an object type: every field of the type, including fields added by `extend type` (and a
 *   directive written on an `extend type` applies to the whole type).
 * - On an interface: every field of the interface and every field of every object type that
 *   implements it. A directive on an interface field applies to that field on every implementation.
 * - Everything that applies is required together (AND): `type Note @auth` with
 *   `text: String @hasPermission(permission: "org:notes:read")` requires both.
 *
 * `__typename` and introspection (`__schema`, `__type`) are never guarded: they describe the schema,
 * not your data. Guard the data, or disable introspection in production if the schema is private.
 *
 * @example
 * ```ts
 * import { createSchema, createYoga } from 'graphql-yoga';
 * import { clerkDirectiveTypeDefs, useClerk } from 'clerk-api-auth/graphql';
 *
 * const yoga = createYoga({
 *   schema: createSchema({
 *     typeDefs: [
 *       clerkDirectiveTypeDefs,
 *       `type Query { health: String!  me: String @auth  stats: Int @hasRole(role: "org:admin") }`,
 *     ],
 *     resolvers: { Query: { health: () => 'ok', me: (_, __, ctx) => ctx.auth.userId, stats: () => 42 } },
 *   }),
 *   plugins: [useClerk()],
 * });
 * ```
 */
export const clerkDirectiveTypeDefs: string = /* GraphQL */ `
"""
Requires a signed-in Clerk session (a valid, active session token). On an object type it applies to
every field of the type; on an interface, to every field of the interface and of every implementation.
"""
directive @auth on OBJECT | INTERFACE | FIELD_DEFINITION

"""
Requires a signed-in Clerk session whose active organization role is any one of \`role\`
(a single string is a list of one; the "org:" prefix is optional).
"""
directive @hasRole(role: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION

"""
Requires a signed-in Clerk session holding any one of the organization permissions in \`permission\`
(a single string is a list of one), e.g. "org:notes:create".
"""
directive @hasPermission(permission: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION
`;

/** The directive names and their one argument, as `clerkDirectiveTypeDefs` defines them. @internal */
export const DIRECTIVES = [
  { name: 'auth', arg: null, key: null },
  { name: 'hasRole', arg: 'role', key: 'role' },
  { name: 'hasPermission', arg: 'permission', key: 'permission' },
] as const;

/** The printed definition of each directive, for error messages. @internal */
export const DIRECTIVE_SDL: Readonly<Record<(typeof DIRECTIVES)[number]['name'], string>> = {
  auth: 'directive @auth on OBJECT | INTERFACE | FIELD_DEFINITION',
  hasRole: 'directive @hasRole(role: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION',
  hasPermission: 'directive @hasPermission(permission: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION',
};

/**
 * A rule set in code instead of SDL, under the `clerk` key of a field's, object type's or
 * interface's `extensions`: `true` means "signed in" (as `@auth`); an `AuthRequirement` can also ask
 * for roles, permissions, features, plans, machine-token kinds, scopes or a predicate. It combines
 * with any directive on the same element (AND), and applies exactly where a directive there would.
 *
 * Schemas built with graphql-tools conventions may instead put directives in
 * `extensions.directives` (e.g. `{ directives: { hasRole: { role: 'org:admin' } } }`); both are read.
 *
 * @example
 * ```ts
 * import { GraphQLObjectType, GraphQLString } from 'graphql';
 *
 * const Query = new GraphQLObjectType({
 *   name: 'Query',
 *   fields: {
 *     report: { type: GraphQLString, extensions: { clerk: { permission: 'org:reports:read' } } },
 *     ping: { type: GraphQLString, extensions: { clerk: { token: 'm2m_token' } } },
 *   },
 * });
 * ```
 */
export type ClerkRuleExtension = true | AuthRequirement;

/**
 * The `extensions` key holding a `ClerkRuleExtension` (`'clerk'`).
 *
 * @example
 * ```ts
 * import { CLERK_EXTENSION_KEY } from 'clerk-api-auth/graphql';
 * const field = { type: GraphQLString, extensions: { [CLERK_EXTENSION_KEY]: { role: 'org:admin' } } };
 * ```
 */
export const CLERK_EXTENSION_KEY = 'clerk';

declare module 'graphql' {
  interface GraphQLFieldExtensions<_TSource, _TContext, _TArgs> {
    /** clerk-api-auth: who may read this field (see `ClerkRuleExtension`). */
    clerk?: ClerkRuleExtension;
  }
  interface GraphQLObjectTypeExtensions<_TSource, _TContext> {
    /** clerk-api-auth: who may read any field of this type (see `ClerkRuleExtension`). */
    clerk?: ClerkRuleExtension;
  }
  interface GraphQLInterfaceTypeExtensions {
    /** clerk-api-auth: who may read any field of this interface and its implementations (see `ClerkRuleExtension`). */
    clerk?: ClerkRuleExtension;
  }
}
