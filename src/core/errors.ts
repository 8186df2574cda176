import { isCredentialRejected, type SignedOutReason } from './reasons.js';

/**
 * Typed errors of clerk-api-auth. Every error has a stable machine-readable `code` and the HTTP
 * `status` a transport should answer with. Messages say what to do; they never contain a token or key.
 */

/**
 * Stable codes of every error this package throws or returns.
 *
 * @example
 * ```ts
 * if (error instanceof ClerkAuthError && error.code === 'FORBIDDEN') console.log('lacks a role or permission');
 * ```
 */
export type ClerkAuthErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CLERK_API_UNAVAILABLE'
  | 'CLERK_AUTH_CONFIG'
  | 'CLERK_SECRET_KEY_REQUIRED';

/**
 * Base class of every error of this package.
 *
 * @example
 * ```ts
 * import { ClerkAuthError } from 'clerk-api-auth';
 * try { await clerkAuth.clerk.users.getUser(id); }
 * catch (error) { if (error instanceof ClerkAuthError) console.error(error.code, error.status); }
 * ```
 */
export class ClerkAuthError extends Error {
  /** Stable machine-readable code. */
  readonly code: ClerkAuthErrorCode;
  /** The HTTP status a transport should answer with. */
  readonly status: number;

  constructor(code: ClerkAuthErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/**
 * No one (valid) is signed in: no token, a token that failed verification, or a token of a kind the
 * guard does not accept. Answer HTTP 401 with the `wwwAuthenticate` value as `WWW-Authenticate`.
 *
 * @example
 * ```ts
 * const check = checkRequirement(await clerkAuth.authenticate(request));
 * if (!check.ok && check.error instanceof UnauthenticatedError) {
 *   return new Response(null, { status: 401, headers: { 'www-authenticate': check.error.wwwAuthenticate } });
 * }
 * ```
 */
export class UnauthenticatedError extends ClerkAuthError {
  /** Why nobody is signed in. */
  readonly reason: SignedOutReason;
  /** RFC 6750 `WWW-Authenticate` header value. */
  readonly wwwAuthenticate: string;

  constructor(reason: SignedOutReason) {
    const rejected = isCredentialRejected(reason);
    super(
      'UNAUTHENTICATED',
      401,
      rejected
        ? `The presented token was rejected (${reason}). Send a fresh, valid Clerk token as \`Authorization: Bearer <token>\`.`
        : 'Authentication required. Send a Clerk token as `Authorization: Bearer <token>`.',
    );
    this.reason = reason;
    this.wwwAuthenticate = rejected ? `Bearer error="invalid_token", error_description="${reason}"` : 'Bearer';
  }
}

/**
 * The caller is signed in but lacks what the guard requires (role, permission, feature, plan, app
 * role, reverification, scope, or a custom predicate). Answer HTTP 403.
 *
 * @example
 * ```ts
 * const check = checkRequirement(result, { role: 'org:admin' });
 * if (!check.ok && check.error instanceof ForbiddenError) console.log(check.error.failed); // ['role']
 * ```
 */
export class ForbiddenError extends ClerkAuthError {
  /** Which parts of the requirement failed, e.g. `['role']`. */
  readonly failed: readonly string[];
  /** RFC 6750 `WWW-Authenticate` header value (`insufficient_scope`). */
  readonly wwwAuthenticate = 'Bearer error="insufficient_scope"';

  constructor(failed: readonly string[]) {
    super('FORBIDDEN', 403, `You are signed in but lack the required ${failed.join(', ')}. Ask an administrator for access.`);
    this.failed = failed;
  }
}

/**
 * The server cannot verify the token right now, through no fault of the caller: Clerk's Backend API
 * could not be reached in time while verifying (JWKS or an opaque machine token), or it refused this
 * server's secret key (`reason: 'secret-key-invalid'`: fix CLERK_SECRET_KEY). Answer HTTP 503 with
 * `Retry-After`; the caller's token is not blamed.
 *
 * @example
 * ```ts
 * if (!check.ok && check.error instanceof ClerkApiUnavailableError) {
 *   return new Response(null, { status: 503, headers: { 'retry-after': String(check.error.retryAfterSeconds) } });
 * }
 * ```
 */
export class ClerkApiUnavailableError extends ClerkAuthError {
  /** Suggested `Retry-After` in seconds. */
  readonly retryAfterSeconds = 1;
  /** `clerk-api-unavailable`, or `secret-key-invalid` when the Backend API refused the secret key. */
  readonly reason: SignedOutReason;

  constructor(reason: SignedOutReason = 'clerk-api-unavailable') {
    super(
      'CLERK_API_UNAVAILABLE',
      503,
      reason === 'secret-key-invalid'
        ? "Clerk's Backend API refused this server's secret key, so tokens cannot be verified. The server's CLERK_SECRET_KEY must be fixed; retry later."
        : "Clerk's Backend API could not be reached to verify the token. Retry shortly.",
    );
    this.reason = reason;
  }
}

/**
 * Invalid configuration, thrown by `createClerkAuth` (never on a request). The message names the fix.
 *
 * @example
 * ```ts
 * import { createClerkAuth, ClerkAuthConfigError } from 'clerk-api-auth';
 * try { createClerkAuth({ env: {} }); }
 * catch (error) { if (error instanceof ClerkAuthConfigError) console.error(error.message); }
 * ```
 */
export class ClerkAuthConfigError extends ClerkAuthError {
  constructor(message: string) {
    super('CLERK_AUTH_CONFIG', 500, message);
  }
}

/**
 * Thrown when the Backend API client is used but no secret key was configured (networkless mode).
 *
 * @example
 * ```ts
 * import { createClerkAuth, ClerkSecretKeyRequiredError } from 'clerk-api-auth';
 * const { clerk } = createClerkAuth({ jwtKey: process.env.CLERK_JWT_KEY });
 * try { await clerk.users.getUser('user_1'); }
 * catch (error) { if (error instanceof ClerkSecretKeyRequiredError) console.error(error.message); }
 * ```
 */
export class ClerkSecretKeyRequiredError extends ClerkAuthError {
  constructor(what = 'The Clerk Backend API client') {
    super(
      'CLERK_SECRET_KEY_REQUIRED',
      500,
      `${what} needs a secret key, but only a JWT public key is configured (networkless mode). ` +
        'Set CLERK_SECRET_KEY (or pass `secretKey` to createClerkAuth) to call the Backend API.',
    );
  }
}
