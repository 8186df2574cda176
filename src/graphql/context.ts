import { authenticateSettled, createClerkAuth, type ClerkAuth } from '../core/create-clerk-auth.js';
import { ClerkAuthConfigError } from '../core/errors.js';
import type { SignedOutReason } from '../core/reasons.js';
import type { AuthenticateResult, ClerkAuthObject, ClerkAuthOptions, ClerkClient } from '../core/types.js';
import { signedOut } from '../core/verify.js';
import { credentialSource } from './credentials.js';

/**
 * What `useClerk` (or `createClerkGraphQLContext`) puts on the GraphQL context.
 *
 * @example
 * ```ts
 * import type { YogaInitialContext } from 'graphql-yoga';
 * import type { ClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * type Context = YogaInitialContext & ClerkGraphQLContext;
 * const resolvers = {
 *   Query: {
 *     me: (_: unknown, __: unknown, ctx: Context) =>
 *       ctx.auth.tokenType === 'session_token' && ctx.auth.isAuthenticated ? ctx.clerk.users.getUser(ctx.auth.userId) : null,
 *   },
 * };
 * ```
 */
export interface ClerkGraphQLContext {
  /**
   * Clerk's own auth object for the caller: a signed-in or signed-out session, or a machine. Every
   * token kind is read here; the directives decide where machine tokens count (by default nowhere).
   */
  auth: ClerkAuthObject;
  /** The Clerk Backend API client. Throws `ClerkSecretKeyRequiredError` on use when only `CLERK_JWT_KEY` is configured. */
  clerk: ClerkClient;
  /**
   * `null` when authenticated; otherwise why not: `token-missing` means no credential was sent, any
   * other value means one was sent and rejected (e.g. `token-expired`).
   */
  signedOutReason: SignedOutReason | null;
}

/** Where the authentication of a context is kept for the authorization walk. @internal */
export const CLERK_STATE: unique symbol = Symbol.for('clerk-api-auth.graphql.state');

/** @internal */
export interface ClerkState {
  readonly result: AuthenticateResult;
  readonly clerkAuth: ClerkAuth;
}

/** The authentication recorded on a context by `useClerk` / `createClerkGraphQLContext`, if any. @internal */
export function stateOf(context: unknown): ClerkState | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const state = (context as { [CLERK_STATE]?: ClerkState })[CLERK_STATE];
  return state !== undefined && typeof state === 'object' ? state : undefined;
}

/** The context fields for one authentication result. @internal */
export function contextFields(clerkAuth: ClerkAuth, result: AuthenticateResult): ClerkGraphQLContext & { [CLERK_STATE]: ClerkState } {
  return { auth: result.auth, clerk: clerkAuth.clerk, signedOutReason: result.reason, [CLERK_STATE]: { result, clerkAuth } };
}

const ANY = { acceptsToken: 'any' } as const;

/**
 * Authenticates whatever a server hands over (see `credentialSource`), accepting every token kind.
 * Settles without a promise when no verification has to run (no credential, or a token already
 * verified and cached). Never throws. @internal
 */
export function authenticateSource(clerkAuth: ClerkAuth, value: unknown): AuthenticateResult | Promise<AuthenticateResult> {
  const source = credentialSource(value);
  if ('reason' in source) return signedOut(source.reason, 'any');
  return authenticateSettled(clerkAuth, source.input, ANY);
}

/** Whether a value is a `ClerkAuth` (from `createClerkAuth`) rather than options. @internal */
export function isClerkAuth(value: unknown): value is ClerkAuth {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClerkAuth).authenticate === 'function' &&
    typeof (value as ClerkAuth).check === 'function' &&
    typeof (value as ClerkAuth).config === 'object'
  );
}

/**
 * A `ClerkAuth` from what an integration was given: an instance (used as is), options (a new
 * instance; environment fallbacks apply), or `{ clerkAuth, ...ownOptions }`. @internal
 */
export function toClerkAuth(given: ClerkAuth | (ClerkAuthOptions & { clerkAuth?: ClerkAuth }) | undefined, ownKeys: readonly string[], where: string): ClerkAuth {
  if (isClerkAuth(given)) return given;
  const options: Record<string, unknown> = { ...given };
  for (const key of ownKeys) delete options[key];
  const instance = given?.clerkAuth;
  if (instance !== undefined) {
    if (!isClerkAuth(instance)) throw new ClerkAuthConfigError(`${where}: \`clerkAuth\` must come from createClerkAuth().`);
    const extra = Object.keys(options).filter((key) => key !== 'clerkAuth' && options[key] !== undefined);
    if (extra.length > 0) {
      throw new ClerkAuthConfigError(
        `${where}: pass either \`clerkAuth\` or Clerk options (${extra.join(', ')}), not both; configure those options on createClerkAuth() instead.`,
      );
    }
    return instance;
  }
  return createClerkAuth(options as ClerkAuthOptions);
}

/**
 * Builds the Clerk part of a GraphQL context for servers other than GraphQL Yoga (Apollo Server,
 * graphql-http, graphql-ws, Mercurius...), to use with a schema from `clerkDirectiveTransformer`.
 * The returned function accepts a web `Request`, a Node request, a bare token, or the context
 * object your server hands to its context factory (`{ req }`, `{ request }`, or a graphql-ws
 * context whose `connectionParams` carry `authorization` / `token`). It never throws for a bad
 * token: the result is signed out with a `signedOutReason`, and the rules decide.
 *
 * @param options - A `ClerkAuth` from `createClerkAuth`, or its options (environment fallbacks apply).
 *
 * @example
 * ```ts
 * import { ApolloServer } from '@apollo/server';
 * import { startStandaloneServer } from '@apollo/server/standalone';
 * import { makeExecutableSchema } from '@graphql-tools/schema';
 * import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const schema = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: [clerkDirectiveTypeDefs, typeDefs], resolvers }));
 * const clerkContext = createClerkGraphQLContext();
 * await startStandaloneServer(new ApolloServer({ schema }), { context: ({ req }) => clerkContext(req) });
 * ```
 */
export function createClerkGraphQLContext(
  options?: ClerkAuth | ClerkAuthOptions,
): (source: unknown) => Promise<ClerkGraphQLContext> {
  const clerkAuth = toClerkAuth(options, [], 'createClerkGraphQLContext');
  return async function clerkGraphQLContext(source) {
    return contextFields(clerkAuth, await authenticateSource(clerkAuth, source));
  };
}
