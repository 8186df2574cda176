import {
  checkRequirement,
  SignedOutReason,
  type AuthCheck,
  type AuthenticateResult,
  type AuthRequirement,
  type ClerkAuthObject,
} from '../core/index.js';

/**
 * Where a context keeps what the guards need beyond `ctx.auth`. A registered symbol, so that a
 * context spread into a user's own object (`{ ...clerkCtx, db }`) keeps it, and so that the ESM and
 * CJS builds of this package read each other's contexts.
 *
 * @internal
 */
export const CLERK_STATE: unique symbol = Symbol.for('clerk-api-auth/trpc.state');

/** Which challenge a response already carries: a 401 one wins over a 403 one. @internal */
export type Challenge = 'none' | 'insufficient_scope' | 'invalid_token';

/** Writes response headers where the transport exposes them (fetch `resHeaders`, Node `res`). @internal */
export interface ResponseSink {
  set(name: string, value: string): void;
  challenge: Challenge;
  /** The HTTP status of the most telling guard failure of this request (401 over 403 over 503), if any. */
  status: number | null;
  /** Whether the client reads Server-Sent Events (`Accept: text/event-stream`), as EventSource does. */
  readonly eventStream: boolean;
}

/** What a context carries for the guards. @internal */
export interface ContextState {
  /** The credential as verified, whatever its kind (`acceptsToken: 'any'`). */
  readonly result: AuthenticateResult;
  /** The object put in `ctx.auth`: the session view of `result`. */
  readonly view: ClerkAuthObject;
  /** `checkRequirement` with the instance's `appRoleClaim`. */
  readonly check: (result: AuthenticateResult, requirement: AuthRequirement) => AuthCheck;
  /** Epoch ms after which the credential no longer counts (`exp` + clock skew), or `null`. */
  readonly deadline: number | null;
  /** Response headers, or `null` where the transport has none (WebSocket, `createCaller`). */
  readonly sink: ResponseSink | null;
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
  if (stored !== undefined && (ctx.auth === stored.view || ctx.auth === stored.result.auth)) return stored;
  const auth = ctx.auth;
  const reason = ctx.signedOutReason ?? (auth.isAuthenticated ? null : SignedOutReason.TokenMissing);
  const times = sessionTimes(auth);
  return {
    result: { auth, reason },
    view: auth,
    check: checkRequirement,
    deadline: times === null ? null : times.expiresAt + DEFAULT_SKEW_MS,
    sink: null,
  };
}

/** When a credential was issued and expires, in epoch ms. @internal */
export interface CredentialTimes {
  issuedAt: number | null;
  expiresAt: number;
}

/** Issue and expiry times of a session token, from its verified claims. */
function sessionTimes(auth: ClerkAuthObject): CredentialTimes | null {
  if (!auth.isAuthenticated || auth.tokenType !== 'session_token') return null;
  const { exp, iat } = auth.sessionClaims;
  if (typeof exp !== 'number') return null;
  return { expiresAt: exp * 1000, issuedAt: typeof iat === 'number' ? iat * 1000 : null };
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
