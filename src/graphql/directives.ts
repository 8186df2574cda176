import type { AuthRequirement } from '../core/internal.js';

/**
 * The SDL of the three authorization directives and the enums and input type their arguments use.
 * Put it first in your type definitions; the rules this package enforces are read from exactly
 * these definitions.
 *
 * Semantics (all three, on `OBJECT | INTERFACE | FIELD_DEFINITION`):
 * - `@auth`: the caller must be signed in with a valid, active Clerk **session** token. Machine
 *   tokens (M2M, API keys, OAuth) do not satisfy it. Its arguments, all optional and all required
 *   together (AND), express every requirement the core has (see `AuthRequirement`); a list means
 *   any one of its values, and GraphQL coerces a single string to a list of one:
 *   - `token: [ClerkTokenKind!]` — the token kinds accepted instead of a session
 *     (`@auth(token: m2m_token)`, `@auth(token: [session_token, api_key])`, `@auth(token: any)`);
 *   - `role`, `permission` — organization roles / permissions (403 when missing);
 *   - `feature`, `plan` — Clerk Billing features / plans (402 `PAYMENT_REQUIRED` when missing);
 *   - `reverification: ClerkReverification` — a preset (`strict_mfa`, `strict`, `moderate`, `lax`),
 *     or `reverifiedWithin: { level: second_factor, afterMinutes: 5 }` for a custom window (not
 *     both): when only that is missing, 403 with Clerk's reverification hint in
 *     `extensions.clerk_error`, so `useReverification` prompts and retries;
 *   - `organization: true` — an active organization (a personal-account session gets 403);
 *   - `appRole` — application roles from session claims; `scope` — machine-token scopes.
 * - `@hasRole(role: ...)`: signed in (as `@auth`) **and** the active organization role is one of
 *   `role`. `@hasRole(role: "org:admin")` and `@hasRole(role: ["org:admin", "org:owner"])` both
 *   work; a list means any one of them. The `org:` prefix is optional, as in Clerk's `has({ role })`.
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
 * Earlier versions defined `@auth` without arguments; such a definition (or one declaring only some
 * of these arguments, with these types) is still read as ours. Any other definition of `@auth`,
 * `@hasRole` or `@hasPermission` is refused when the schema is loaded.
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
 *       `type Query { health: String!  me: String @auth  stats: Int @hasRole(role: "org:admin")  report: Int @auth(feature: "reports") }
 *        type Mutation { rotateKey: Boolean! @auth(reverification: strict) }`,
 *     ],
 *     resolvers: {
 *       Query: { health: () => 'ok', me: (_, __, ctx) => ctx.auth.userId, stats: () => 42, report: () => 7 },
 *       Mutation: { rotateKey: () => true },
 *     },
 *   }),
 *   plugins: [useClerk()],
 * });
 * ```
 */
export const clerkDirectiveTypeDefs: string = /* GraphQL */ `
"""
Token kinds a Clerk guard can accept (@auth(token: ...)): a session, an M2M token, an OAuth access
token, an API key, or any of them.
"""
enum ClerkTokenKind {
  session_token
  m2m_token
  oauth_token
  api_key
  any
}

"""
Clerk's reverification presets: strict_mfa (multi-factor within 10 minutes), strict (second factor
within 10 minutes), moderate (second factor within an hour), lax (second factor within a day).
"""
enum ClerkReverification {
  strict_mfa
  strict
  moderate
  lax
}

"""The factor level of a custom reverification window."""
enum ClerkVerificationLevel {
  first_factor
  second_factor
  multi_factor
}

"""A custom reverification window: verified at \`level\` within the last \`afterMinutes\` minutes."""
input ClerkReverificationWindow {
  level: ClerkVerificationLevel!
  afterMinutes: Int!
}

"""
Requires a signed-in Clerk session (a valid, active session token), or a token of a kind listed in
\`token\`. Every argument given is required too (a list means any one of its values): organization
\`role\` / \`permission\` (403), billing \`feature\` / \`plan\` (402), a recent reverification
(\`reverification\` preset or \`reverifiedWithin\`; 403 with Clerk's reverification hint), an active
\`organization\`, application \`appRole\`, machine-token \`scope\`. On an object type it applies to
every field of the type; on an interface, to every field of the interface and of every implementation.
"""
directive @auth(
  token: [ClerkTokenKind!]
  role: [String!]
  permission: [String!]
  feature: [String!]
  plan: [String!]
  reverification: ClerkReverification
  reverifiedWithin: ClerkReverificationWindow
  organization: Boolean
  appRole: [String!]
  scope: [String!]
) on OBJECT | INTERFACE | FIELD_DEFINITION

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

/** The directive names, as `clerkDirectiveTypeDefs` defines them. @internal */
export const DIRECTIVE_NAMES = ['auth', 'hasRole', 'hasPermission'] as const;

/** The named input types `clerkDirectiveTypeDefs` defines for the directives' arguments. @internal */
export const DIRECTIVE_TYPE_NAMES = ['ClerkTokenKind', 'ClerkReverification', 'ClerkVerificationLevel', 'ClerkReverificationWindow'] as const;

/**
 * A rule set in code instead of SDL, under the `clerk` key of a field's, object type's or
 * interface's `extensions`: `true` means "signed in" (as `@auth`); an `AuthRequirement` can also ask
 * for roles, permissions, features, plans, a recent reverification, an active organization,
 * application roles, machine-token kinds, scopes or a predicate (the one requirement SDL cannot
 * express). It combines
 * with any directive on the same element (AND), and applies exactly where a directive there would.
 *
 * Schemas built with graphql-tools conventions may instead put directives in
 * `extensions.directives` (e.g. `{ directives: { hasRole: { role: 'org:admin' } } }` or
 * `{ directives: { auth: { feature: 'reports' } } }`); both are read.
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
