import {
  checkRequirement,
  settledRequestAuth,
  SignedOutReason,
  type AuthCheck,
  type AuthenticateResult,
  type AuthRequirement,
  type ClerkAuthObject,
  type RequestAuth,
  type ResponseChallenge,
} from '../core/internal.js';

/**
 * Where a context keeps what the guards need beyond `ctx.auth`. A registered symbol, so that a
 * context spread into a user's own object (`{ ...clerkCtx, db }`) keeps it, and so that the ESM and
 * CJS builds of this package read each other's contexts.
 *
 * @internal
 */
export const CLERK_STATE: unique symbol = Symbol.for('clerk-api-auth/trpc.state');

/**
 * Writes response headers where the transport exposes them (fetch `resHeaders`, Node `res`, Fastify
 * `reply`), or keeps them for `clerkResponseMeta` where it exposes none (AWS Lambda). @internal
 */
export interface ResponseSink {
  set(name: string, value: string): void;
  /** The denials of this request so far, and the challenge they add up to (the core's one precedence). */
  readonly challenge: ResponseChallenge;
  /** Whether the client reads Server-Sent Events (`Accept: text/event-stream`), as EventSource does. */
  readonly eventStream: boolean;
  /**
   * Set where the adapter has no response object (AWS Lambda): `clerkResponseMeta` returns the
   * challenge's headers and reports that it did; `denied` records that a guard denied the request.
   */
  readonly deferred: { denied(): void; delivered(): void } | null;
}

/** What a context carries for the guards. @internal */
export interface ContextState {
  /** The request's credential, verified only as far as the guards ask. */
  readonly request: RequestAuth;
  /** The object put in `ctx.auth` (the session view). */
  readonly view: ClerkAuthObject;
  /**
   * Auth objects guards admitted and put in `ctx.auth` for the rest of the chain: a list (most
   * requests add none, a few one), not a `WeakSet` allocated for every request.
   */
  readonly admitted: object[];
  /** `checkRequirement` with the instance's `appRoleClaim`. */
  readonly check: (result: AuthenticateResult, requirement: AuthRequirement) => AuthCheck;
  /** The clock skew expiry is computed with. */
  readonly clockSkewInMs: number;
  /** Response headers, or `null` where the transport has none (WebSocket, `createCaller`). */
  readonly sink: ResponseSink | null;
  /** The auth object a guard of this request admitted last (`admittedAuth`), once one has. */
  admittedLast?: ClerkAuthObject;
}

/** The part of a context the guards read. @internal */
export interface ContextLike {
  auth: ClerkAuthObject;
  signedOutReason?: SignedOutReason | null;
  [CLERK_STATE]?: ContextState;
}

/** Clerk's default clock skew, used for contexts built by hand. */
const DEFAULT_SKEW_MS = 5000;

/**
 * The state of a context: the one `createClerkContext` stored, or one derived from `ctx.auth` for a
 * context the user built (or whose `auth` a middleware of theirs replaced).
 *
 * @internal
 */
export function stateOf(ctx: ContextLike): ContextState {
  const stored = ctx[CLERK_STATE];
  if (stored !== undefined && (ctx.auth === stored.view || stored.admitted.includes(ctx.auth))) return stored;
  const auth = ctx.auth;
  const reason = ctx.signedOutReason ?? (auth.isAuthenticated ? null : SignedOutReason.TokenMissing);
  return {
    request: settledRequestAuth({ auth, reason }, DEFAULT_SKEW_MS),
    view: auth,
    admitted: [],
    check: checkRequirement,
    clockSkewInMs: DEFAULT_SKEW_MS,
    sink: null,
    admittedLast: undefined,
  };
}

/** When a credential was issued and expires, in epoch ms. @internal */
export interface CredentialTimes {
  issuedAt: number | null;
  expiresAt: number;
}

/**
 * Issue and expiry times of a verified credential: its expiry as the core computed it (JWT `exp`
 * plus skew, or an opaque token's expiration), its issue time from session claims when known.
 *
 * @internal
 */
export function credentialTimes(result: AuthenticateResult): CredentialTimes | null {
  if (!result.auth.isAuthenticated || result.expiresAt === undefined) return null;
  const iat = result.auth.tokenType === 'session_token' ? result.auth.sessionClaims.iat : undefined;
  return { expiresAt: result.expiresAt, issuedAt: typeof iat === 'number' ? iat * 1000 : null };
}
