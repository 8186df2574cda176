import { reverificationError } from '@clerk/shared/authorization-errors';
import type { ReverificationRequirement } from './authorization.js';
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
 * if (isClerkAuthError(error) && error.code === 'FORBIDDEN') console.log('lacks a role or permission');
 * ```
 */
export type ClerkAuthErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHENTICATED'
  | 'PAYMENT_REQUIRED'
  | 'FORBIDDEN'
  | 'CLERK_API_UNAVAILABLE'
  | 'CLERK_AUTH_CONFIG'
  | 'CLERK_SECRET_KEY_REQUIRED';

/**
 * Base class of every error of this package.
 *
 * @example
 * ```ts
 * import { isClerkAuthError } from 'clerk-api-auth';
 * try { await clerkAuth.clerk.users.getUser(id); }
 * catch (error) { if (isClerkAuthError(error)) console.error(error.code, error.status); }
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

const CODES: ReadonlySet<string> = new Set<ClerkAuthErrorCode>([
  'INVALID_REQUEST',
  'UNAUTHENTICATED',
  'PAYMENT_REQUIRED',
  'FORBIDDEN',
  'CLERK_API_UNAVAILABLE',
  'CLERK_AUTH_CONFIG',
  'CLERK_SECRET_KEY_REQUIRED',
]);

/**
 * Whether `value` is an error of this package, recognised by its stable `code` and `status` rather
 * than by `instanceof`: the CommonJS and ESM builds of the package each have their own classes, and
 * an app can load both (a `ClerkAuth` from one, an integration from the other).
 *
 * @example
 * ```ts
 * import { isClerkAuthError } from 'clerk-api-auth';
 * try { await clerkAuth.clerk.users.getUser(id); }
 * catch (error) { if (isClerkAuthError(error)) console.error(error.code, error.status); }
 * ```
 */
export function isClerkAuthError(value: unknown): value is ClerkAuthError {
  if (typeof value !== 'object' || value === null) return false;
  const { code, status } = value as { code?: unknown; status?: unknown };
  return typeof code === 'string' && CODES.has(code) && typeof status === 'number';
}

/**
 * The request's credential is malformed or ambiguous (RFC 6750 §3.1 `invalid_request`): several
 * credentials (two `Authorization` headers, a header and a connection-params token that disagree), or
 * an `Authorization` value that is not `Bearer <token68>`. A fresh token cannot fix this; the client
 * must send one well-formed credential. Answer HTTP 400 with `wwwAuthenticate` as `WWW-Authenticate`.
 *
 * @example
 * ```ts
 * const check = checkRequirement(await clerkAuth.authenticate(request));
 * if (!check.ok && check.error.code === 'INVALID_REQUEST') {
 *   return new Response(null, { status: 400, headers: { 'www-authenticate': check.error.wwwAuthenticate } });
 * }
 * ```
 */
export class InvalidRequestError extends ClerkAuthError {
  declare readonly code: 'INVALID_REQUEST';
  /** What is wrong with the credential. */
  readonly reason: SignedOutReason;
  /** RFC 6750 `WWW-Authenticate` header value (`invalid_request`). */
  readonly wwwAuthenticate: string;

  constructor(reason: SignedOutReason) {
    super(
      'INVALID_REQUEST',
      400,
      reason === 'multiple-authorization-headers'
        ? 'The request carries more than one credential (multiple-authorization-headers). Send exactly one Clerk token, as `Authorization: Bearer <token>`.'
        : `The credential is malformed (${reason}). Send a Clerk token as \`Authorization: Bearer <token>\`.`,
    );
    this.reason = reason;
    this.wwwAuthenticate = `Bearer error="invalid_request", error_description="${reason}"`;
  }
}

/**
 * No one (valid) is signed in: no token, a token that failed verification, or a token of a kind the
 * guard does not accept. Answer HTTP 401 with the `wwwAuthenticate` value as `WWW-Authenticate`.
 *
 * @example
 * ```ts
 * const check = checkRequirement(await clerkAuth.authenticate(request));
 * if (!check.ok && check.error.code === 'UNAUTHENTICATED') {
 *   return new Response(null, { status: 401, headers: { 'www-authenticate': check.error.wwwAuthenticate } });
 * }
 * ```
 */
export class UnauthenticatedError extends ClerkAuthError {
  declare readonly code: 'UNAUTHENTICATED';
  /** Why nobody is signed in. */
  readonly reason: SignedOutReason;
  /** RFC 6750 `WWW-Authenticate` header value. */
  readonly wwwAuthenticate: string;

  constructor(reason: SignedOutReason) {
    const rejected = isCredentialRejected(reason);
    super(
      'UNAUTHENTICATED',
      401,
      !rejected
        ? 'Authentication required. Send a Clerk token as `Authorization: Bearer <token>`.'
        : reason === 'token-type-mismatch'
          ? 'The presented token is of a kind this operation does not accept (token-type-mismatch), e.g. a machine token where a signed-in session is required. Send a token of an accepted kind.'
          : `The presented token was rejected (${reason}). Send a fresh, valid Clerk token as \`Authorization: Bearer <token>\`.`,
    );
    this.reason = reason;
    this.wwwAuthenticate = rejected ? `Bearer error="invalid_token", error_description="${reason}"` : 'Bearer';
  }
}

/**
 * Clerk's reverification hint: the body Clerk's `useReverification` (in `@clerk/shared/react` and
 * every Clerk frontend SDK) recognises (`isReverificationHint`) to prompt the user and retry, as
 * `@clerk/shared`'s `reverificationError(missing)` builds it. `metadata.reverification` is what the
 * guard asked for (this package's servers always send it); the prompt reads its level from it.
 *
 * @example
 * ```ts
 * const hint: ReverificationHint = { clerk_error: { type: 'forbidden', reason: 'reverification-error', metadata: { reverification: 'strict' } } };
 * ```
 */
export interface ReverificationHint {
  clerk_error: {
    type: 'forbidden';
    reason: 'reverification-error';
    metadata: { reverification?: ReverificationRequirement };
  };
}

/** The parts of a requirement a `ForbiddenError` or `PaymentRequiredError` can name as failed. */
type FailedPart = string;

/** How a failed part is named in messages. */
const PART_NAMES: Readonly<Record<string, string>> = {
  role: 'organization role',
  permission: 'organization permission',
  appRole: 'application role',
  scope: 'token scope',
  predicate: 'custom check',
  organization: 'active organization',
  reverification: 'recent reverification',
  feature: 'feature',
  plan: 'plan',
};

function forbiddenMessage(failed: readonly FailedPart[], reverification: ReverificationRequirement | undefined): string {
  if (failed.length === 1 && failed[0] === 'reverification') {
    return (
      `This operation needs a recent reverification (${describeReverification(reverification)}). ` +
      "Verify again (Clerk's useReverification prompts for it) and retry with a fresh session token."
    );
  }
  if (failed.length === 1 && failed[0] === 'organization') {
    return (
      'This operation needs an active organization, but the session is on a personal account (no active organization). ' +
      "Select an organization (Clerk's <OrganizationSwitcher /> or setActive({ organization })) and retry with a fresh session token."
    );
  }
  const parts = failed.map((part) => PART_NAMES[part] ?? part);
  const hint = failed.includes('organization') ? ' Select an organization first; then ask an administrator for access.' : ' Ask an administrator for access.';
  return `You are signed in but lack the required ${parts.join(', ')}.${hint}`;
}

function describeReverification(reverification: ReverificationRequirement | undefined): string {
  if (reverification === undefined) return 'a recent verification';
  if (typeof reverification === 'string') return `\`${reverification}\``;
  return `${reverification.level} within ${reverification.afterMinutes} minutes`;
}

/**
 * The caller is signed in but lacks what the guard requires: an organization role or permission,
 * an active organization, an application role, a scope, a custom predicate — or a recent
 * reverification. Answer HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`.
 * (A missing billing feature or plan is `PaymentRequiredError`, 402.)
 *
 * When a recent reverification is the only thing missing, `clerkError` is Clerk's reverification
 * hint (`{ type: 'forbidden', reason: 'reverification-error', metadata: { reverification } }`):
 * put it in the response (the integrations do: tRPC's error `data.clerk_error`, GraphQL's
 * `extensions.clerk_error`) so Clerk's `useReverification` prompts the user and retries. When
 * something else is missing too, there is no hint: reverifying would not make the call succeed.
 *
 * @example
 * ```ts
 * const check = checkRequirement(result, { role: 'org:admin' });
 * if (!check.ok && check.error.code === 'FORBIDDEN') console.log(check.error.failed); // ['role']
 * const sensitive = checkRequirement(result, { reverification: 'strict' });
 * if (!sensitive.ok && sensitive.error.code === 'FORBIDDEN' && sensitive.error.clerkError) {
 *   return Response.json({ clerk_error: sensitive.error.clerkError }, { status: 403 }); // what useReverification reads
 * }
 * ```
 */
export class ForbiddenError extends ClerkAuthError {
  declare readonly code: 'FORBIDDEN';
  /** Which parts of the requirement failed, e.g. `['role']`. */
  readonly failed: readonly string[];
  /** RFC 6750 `WWW-Authenticate` header value (`insufficient_scope`). */
  readonly wwwAuthenticate = 'Bearer error="insufficient_scope"';
  /** The reverification the requirement asked for, when a recent reverification is all that is missing. */
  readonly reverification: ReverificationRequirement | undefined;
  /**
   * Clerk's reverification hint (the `clerk_error` of `ReverificationHint`), when a recent
   * reverification is all that is missing; `undefined` otherwise.
   */
  readonly clerkError: ReverificationHint['clerk_error'] | undefined;

  constructor(failed: readonly string[], details: { reverification?: ReverificationRequirement } = {}) {
    const hinted = failed.length === 1 && failed[0] === 'reverification' && details.reverification !== undefined ? details.reverification : undefined;
    super('FORBIDDEN', 403, forbiddenMessage(failed, details.reverification));
    this.failed = failed;
    this.reverification = hinted;
    // Built by Clerk's own helper, so the hint is exactly what Clerk's frontend checks for.
    this.clerkError = hinted === undefined ? undefined : (reverificationError(hinted).clerk_error as ReverificationHint['clerk_error']);
  }
}

/**
 * What a `PaymentRequiredError` names as missing: the billing features and plans the requirement
 * asked for (any one of each list grants access), as written in the requirement.
 *
 * @example
 * ```ts
 * const missing: MissingEntitlements = { feature: ['reports'] };
 * ```
 */
export interface MissingEntitlements {
  /** Billing features, any one of which would do. */
  feature?: readonly string[];
  /** Billing plans, any one of which would do. */
  plan?: readonly string[];
}

/**
 * The caller is signed in and allowed, but their plan (Clerk Billing) lacks a feature or plan the
 * guard requires: payment can fix this, an administrator cannot. Answer HTTP 402 (tRPC
 * `PAYMENT_REQUIRED`, GraphQL `extensions.code: 'PAYMENT_REQUIRED'`), with
 * `WWW-Authenticate: Bearer error="insufficient_scope"`; the message and `missing` name what is
 * missing. When a role, permission or anything else an administrator grants is missing too, the
 * answer is `ForbiddenError` (403) instead: paying would not make the call succeed.
 *
 * @example
 * ```ts
 * const check = checkRequirement(result, { feature: 'reports' });
 * if (!check.ok && check.error.code === 'PAYMENT_REQUIRED') {
 *   return Response.json({ code: 'PAYMENT_REQUIRED', missing: check.error.missing }, { status: 402 }); // { feature: ['reports'] }
 * }
 * ```
 */
export class PaymentRequiredError extends ClerkAuthError {
  declare readonly code: 'PAYMENT_REQUIRED';
  /** Which parts of the requirement failed: `feature`, `plan` (and `reverification`, asked next). */
  readonly failed: readonly string[];
  /** The features and plans the requirement asked for that the caller lacks. */
  readonly missing: MissingEntitlements;
  /** RFC 6750 `WWW-Authenticate` header value (`insufficient_scope`). */
  readonly wwwAuthenticate = 'Bearer error="insufficient_scope"';

  constructor(failed: readonly string[], missing: MissingEntitlements) {
    const named: string[] = [];
    if (missing.feature && missing.feature.length > 0) named.push(`${missing.feature.length === 1 ? 'the feature' : 'one of the features'} ${quoted(missing.feature)}`);
    if (missing.plan && missing.plan.length > 0) named.push(`${missing.plan.length === 1 ? 'the plan' : 'one of the plans'} ${quoted(missing.plan)}`);
    super(
      'PAYMENT_REQUIRED',
      402,
      `Payment required: this operation needs ${named.join(' and ') || 'a billing entitlement'} (Clerk Billing), which the current subscription does not include. ` +
        'Subscribe to a plan that includes it and retry with a fresh session token.',
    );
    this.failed = failed;
    this.missing = missing;
  }
}

function quoted(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

/**
 * The server cannot verify the token right now, through no fault of the caller: Clerk's Backend API
 * could not be reached in time while verifying (JWKS or an opaque machine token), or it refused this
 * server's secret key (`reason: 'secret-key-invalid'`: fix CLERK_SECRET_KEY). Answer HTTP 503 with
 * `Retry-After`; the caller's token is not blamed.
 *
 * @example
 * ```ts
 * if (!check.ok && check.error.code === 'CLERK_API_UNAVAILABLE') {
 *   return new Response(null, { status: 503, headers: { 'retry-after': String(check.error.retryAfterSeconds) } });
 * }
 * ```
 */
export class ClerkApiUnavailableError extends ClerkAuthError {
  declare readonly code: 'CLERK_API_UNAVAILABLE';
  /** Suggested `Retry-After` in seconds (Clerk's own `Retry-After` when it answered 429, else 1). */
  readonly retryAfterSeconds: number;
  /** `clerk-api-unavailable`, or `secret-key-invalid` when the Backend API refused the secret key. */
  readonly reason: SignedOutReason;

  constructor(reason: SignedOutReason = 'clerk-api-unavailable', retryAfterSeconds = 1) {
    super(
      'CLERK_API_UNAVAILABLE',
      503,
      reason === 'secret-key-invalid'
        ? "Clerk's Backend API refused this server's secret key, so tokens cannot be verified. The server's CLERK_SECRET_KEY must be fixed; retry later."
        : "Clerk's Backend API could not be reached to verify the token. Retry shortly.",
    );
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Invalid configuration, thrown by `createClerkAuth` (never on a request). The message names the fix.
 *
 * @example
 * ```ts
 * import { createClerkAuth, isClerkAuthError } from 'clerk-api-auth';
 * try { createClerkAuth({ env: {} }); }
 * catch (error) { if (isClerkAuthError(error) && error.code === 'CLERK_AUTH_CONFIG') console.error(error.message); }
 * ```
 */
export class ClerkAuthConfigError extends ClerkAuthError {
  declare readonly code: 'CLERK_AUTH_CONFIG';
  constructor(message: string) {
    super('CLERK_AUTH_CONFIG', 500, message);
  }
}

/**
 * Thrown when the Backend API client is used but no secret key was configured (networkless mode).
 *
 * @example
 * ```ts
 * import { createClerkAuth, isClerkAuthError } from 'clerk-api-auth';
 * const { clerk } = createClerkAuth({ jwtKey: process.env.CLERK_JWT_KEY });
 * try { await clerk.users.getUser('user_1'); }
 * catch (error) { if (isClerkAuthError(error) && error.code === 'CLERK_SECRET_KEY_REQUIRED') console.error(error.message); }
 * ```
 */
export class ClerkSecretKeyRequiredError extends ClerkAuthError {
  declare readonly code: 'CLERK_SECRET_KEY_REQUIRED';
  constructor(what = 'The Clerk Backend API client') {
    super(
      'CLERK_SECRET_KEY_REQUIRED',
      500,
      `${what} needs a secret key, but only a JWT public key is configured (networkless mode). ` +
        'Set CLERK_SECRET_KEY (or pass `secretKey` to createClerkAuth) to call the Backend API.',
    );
  }
}
