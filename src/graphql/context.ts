import {
  checkRequirement,
  credentialInputOf,
  requestAuth,
  resolveClerkAuth,
  settledRequestAuth,
  SignedOutReason,
  type AuthenticateResult,
  type AuthenticatedMachineObject,
  type AuthRequirement,
  type ClerkAuth,
  type ClerkAuthObject,
  type ClerkAuthSource,
  type ClerkClient,
  type RequestAuth,
  type SignedInAuthObject,
  type SignedOutAuthObject,
} from '../core/internal.js';

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
   * Clerk's auth object for the caller's session (Clerk's default view): signed in, or signed out with
   * `signedOutReason`. A machine token (M2M, API key, OAuth) leaves it signed out
   * (`token-type-mismatch`): it counts only in fields whose rule accepts its kind.
   */
  auth: SignedInAuthObject | SignedOutAuthObject;
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
  /** The request's credential, verified only as far as the rules of each operation ask. */
  readonly request: RequestAuth;
  readonly clerkAuth: ClerkAuth;
}

/** The authentication recorded on a context by `useClerk` / `createClerkGraphQLContext`, if any. @internal */
export function stateOf(context: unknown): ClerkState | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const state = (context as { [CLERK_STATE]?: ClerkState })[CLERK_STATE];
  return state !== undefined && typeof state === 'object' ? state : undefined;
}

/** The context fields for one request: `auth` is the session view (Clerk's default). @internal */
export function contextFields(clerkAuth: ClerkAuth, request: RequestAuth, session: AuthenticateResult): ClerkGraphQLContext & { [CLERK_STATE]: ClerkState } {
  return {
    auth: session.auth as SignedInAuthObject | SignedOutAuthObject,
    clerk: clerkAuth.clerk,
    signedOutReason: session.reason,
    [CLERK_STATE]: { request, clerkAuth },
  };
}

/**
 * The `RequestAuth` of whatever a server hands over: a request, a token, or a server's context object
 * (`{ request }`, `{ req }`, a graphql-ws context with `connectionParams`), read by the core's one
 * credential reader. @internal
 */
export function requestAuthOf(clerkAuth: ClerkAuth, value: unknown): RequestAuth {
  return requestAuth(clerkAuth, credentialInputOf(value));
}

/**
 * The state of a context built without `useClerk` / `createClerkGraphQLContext` that carries Clerk's
 * auth object at `auth` (and `signedOutReason`): nothing is verified, the rules read that object.
 * `undefined` when the context has no such object.
 *
 * @internal
 */
export function stateFromAuth(context: object): ClerkState | undefined {
  const { auth, signedOutReason } = context as { auth?: ClerkAuthObject; signedOutReason?: SignedOutReason | null };
  if (typeof auth !== 'object' || auth === null || typeof auth.isAuthenticated !== 'boolean') return undefined;
  const result: AuthenticateResult = auth.isAuthenticated ? { auth, reason: null } : { auth, reason: signedOutReason ?? SignedOutReason.TokenMissing };
  return { request: settledRequestAuth(result, DEFAULT_SKEW_MS), clerkAuth: DEFAULTS };
}

const DEFAULT_SKEW_MS = 5000;
/** Clerk's defaults, for contexts that carry only an auth object. */
const DEFAULTS = {
  check: (result: AuthenticateResult, requirement?: AuthRequirement) => checkRequirement(result, requirement),
  config: { clockSkewInMs: DEFAULT_SKEW_MS },
} as unknown as ClerkAuth;

/**
 * Builds the Clerk part of a GraphQL context for servers other than GraphQL Yoga (Apollo Server,
 * graphql-http, graphql-ws, Mercurius...), to use with a schema from `clerkDirectiveTransformer`.
 * The returned function accepts a web `Request`, a Node request, a bare token, or the context
 * object your server hands to its context factory (`{ req }`, `{ request }`, or a graphql-ws
 * context whose `connectionParams` carry `authorization` / `token`). It never throws for a bad
 * token: the result is signed out with a `signedOutReason`, and the rules decide.
 *
 * `auth` is the session view, as Clerk's own default: a machine token (M2M, API key, OAuth) is
 * verified only when an operation selects a field whose rule accepts its kind.
 *
 * @param options - A `ClerkAuth` from `createClerkAuth`, or its options (environment fallbacks apply).
 *
 * @example
 * ```ts
 * import { ApolloServer } from '@apollo/server';
 * import { startStandaloneServer } from '@apollo/server/standalone';
 * import { clerkApolloPlugin } from 'clerk-api-auth/apollo';
 * import { clerkDirectiveTypeDefs, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const server = new ApolloServer({ typeDefs: [clerkDirectiveTypeDefs, typeDefs], resolvers, plugins: [clerkApolloPlugin()] });
 * await startStandaloneServer(server, { context: createClerkGraphQLContext() });
 * ```
 */
export function createClerkGraphQLContext(options?: ClerkAuthSource): (source: unknown) => Promise<ClerkGraphQLContext> {
  const { clerkAuth } = resolveClerkAuth(options, [], 'createClerkGraphQLContext');
  return async function clerkGraphQLContext(source) {
    const request = requestAuthOf(clerkAuth, source);
    const settled = request.session();
    return contextFields(clerkAuth, request, settled instanceof Promise ? await settled : settled);
  };
}

const MACHINE_KINDS = ['m2m_token', 'api_key', 'oauth_token'] as const;

/**
 * The machine behind the request (an M2M token, an API key or an OAuth access token), for resolvers of
 * fields whose rule accepts machine tokens: `ctx.auth` stays Clerk's default session view, as in tRPC.
 * Resolves to `null` when the credential is not a valid machine token. The credential was verified
 * when the operation's plan admitted it, so this costs nothing more there; called elsewhere, it
 * verifies the credential (an opaque token: one Backend API call per request).
 *
 * @example
 * ```ts
 * import { machineAuthOf, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const resolvers = {
 *   Query: {
 *     // extensions: { clerk: { token: 'm2m_token' } } on the field
 *     ping: async (_: unknown, __: unknown, ctx: ClerkGraphQLContext) => (await machineAuthOf(ctx))?.subject ?? null,
 *   },
 * };
 * ```
 */
export async function machineAuthOf(context: ClerkGraphQLContext): Promise<AuthenticatedMachineObject | null> {
  const state = stateOf(context);
  if (state === undefined) return null;
  const result = await state.request.accepting(MACHINE_KINDS);
  const { auth } = result;
  return auth.isAuthenticated && auth.tokenType !== 'session_token' && auth.tokenType !== null ? auth : null;
}
