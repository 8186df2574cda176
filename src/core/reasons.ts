/**
 * Machine-readable reasons why a request is signed out. Verification reasons are
 * `@clerk/backend`'s own `TokenVerificationErrorReason` / `MachineTokenVerificationErrorCode`
 * strings; the rest are decided before any cryptography runs.
 */
export const SignedOutReason = {
  /** No token was presented. The only reason that means "anonymous" rather than "bad credential". */
  TokenMissing: 'token-missing',
  /** More than one Authorization header, or several credentials in one. */
  MultipleAuthorizationHeaders: 'multiple-authorization-headers',
  /** The Authorization header is not `Bearer <token68>`. */
  MalformedAuthorizationHeader: 'malformed-authorization-header',
  /** The token is longer than `maxTokenLength`. */
  TokenTooLarge: 'token-too-large',
  /**
   * The token is of a kind the caller does not accept (e.g. a machine token where a session is
   * required), or a `__session` cookie holds something other than a session token.
   */
  TokenTypeMismatch: 'token-type-mismatch',
  /**
   * A `__session` cookie came without a `__client_uat` cookie (or with `__client_uat=0`): the browser
   * has no signed-in client, so the session cookie is stale. `@clerk/backend`'s own reason.
   */
  SessionTokenWithoutClientUat: 'session-token-but-no-client-uat',
  /**
   * A `__session` cookie holds a token issued before the client's last sign-in or sign-out
   * (`iat` before `__client_uat`), so it is stale. `@clerk/backend`'s own reason.
   */
  SessionTokenIatBeforeClientUat: 'session-token-iat-before-client-uat',
  /** The session is valid but `pending` (the user still has a task to complete). */
  SessionPending: 'session-pending',
  /** An opaque machine token needs the Backend API, but only a JWT key is configured. */
  SecretKeyRequired: 'secret-key-required',
  /** The Backend API (JWKS or token verification) could not be reached in time; retry later. */
  ClerkApiUnavailable: 'clerk-api-unavailable',
  TokenExpired: 'token-expired',
  TokenNotActiveYet: 'token-not-active-yet',
  TokenIatInTheFuture: 'token-iat-in-the-future',
  TokenInvalid: 'token-invalid',
  TokenInvalidAlgorithm: 'token-invalid-algorithm',
  TokenInvalidAuthorizedParties: 'token-invalid-authorized-parties',
  TokenInvalidIssuer: 'token-invalid-issuer',
  TokenInvalidSignature: 'token-invalid-signature',
  TokenVerificationFailed: 'token-verification-failed',
  JwkKidMismatch: 'jwk-kid-mismatch',
  SecretKeyInvalid: 'secret-key-invalid',
} as const;

/**
 * A machine-readable reason why a request is signed out.
 *
 * @example
 * ```ts
 * const { auth, reason } = await clerkAuth.authenticate(request);
 * if (reason === 'token-expired') console.log('client should refresh its token');
 * ```
 */
export type SignedOutReason = (typeof SignedOutReason)[keyof typeof SignedOutReason];

const KNOWN = new Set<string>(Object.values(SignedOutReason));

/** Maps any reason string from `@clerk/backend` onto our closed set. @internal */
export function toSignedOutReason(value: unknown): SignedOutReason {
  if (typeof value === 'string' && KNOWN.has(value)) return value as SignedOutReason;
  if (value === 'jwk-remote-failed-to-load' || value === 'unexpected-error') return SignedOutReason.ClerkApiUnavailable;
  return SignedOutReason.TokenInvalid;
}

/**
 * Whether a signed-out result means a credential was presented and rejected (as opposed to no
 * credential at all). Such callers must get a 401 `invalid_token`, never anonymous access. A stale
 * `__session` cookie (`session-token-but-no-client-uat`, `session-token-iat-before-client-uat`) is
 * a presented and rejected credential too: the client should refresh its session token.
 *
 * @example
 * ```ts
 * const { reason } = await clerkAuth.authenticate(request);
 * if (isCredentialRejected(reason)) return new Response(null, { status: 401 });
 * ```
 */
export function isCredentialRejected(reason: SignedOutReason | null): boolean {
  return reason !== null && reason !== SignedOutReason.TokenMissing;
}
