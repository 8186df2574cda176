import type { DenialError } from './challenge.js';
import { ClerkApiUnavailableError, ForbiddenError, InvalidRequestError, UnauthenticatedError } from './errors.js';
import { accepts } from './options.js';
import { SignedOutReason } from './reasons.js';
import { scopeList } from './scopes.js';
import type { AcceptsToken, AuthenticateResult, ClerkAuthObject, SignedInAuthObject } from './types.js';

type HasParams = Parameters<SignedInAuthObject['has']>[0];

/**
 * Clerk's reverification presets (`'strict'`, `'strict_mfa'`, `'moderate'`, `'lax'`) or a custom level and age.
 *
 * @example
 * ```ts
 * const recent: ReverificationRequirement = { level: 'second_factor', afterMinutes: 10 };
 * ```
 */
export type ReverificationRequirement = NonNullable<HasParams extends infer P ? (P extends { reverification?: infer R } ? R : never) : never>;

/**
 * What a guard requires. Every field is optional; all given fields must hold (AND). A list means
 * "any one of" (OR). An empty requirement means "signed in with an accepted token kind".
 *
 * @example
 * ```ts
 * const requirement: AuthRequirement = { role: ['org:admin', 'org:owner'], permission: 'org:notes:create' };
 * ```
 */
export interface AuthRequirement {
  /** Accepted token kinds. Default `'session_token'`: machine tokens count only where a guard asks for them. */
  token?: AcceptsToken;
  /** Organization role(s), checked with Clerk's `has({ role })`. */
  role?: string | readonly string[];
  /** Organization permission(s), checked with Clerk's `has({ permission })`. */
  permission?: string | readonly string[];
  /** Billing feature(s), checked with Clerk's `has({ feature })`. */
  feature?: string | readonly string[];
  /** Billing plan(s), checked with Clerk's `has({ plan })`. */
  plan?: string | readonly string[];
  /** Recent re-verification, checked with Clerk's `has({ reverification })`. */
  reverification?: ReverificationRequirement;
  /** Application role(s), read from session claims at `appRoleClaim` (default `metadata.role`). */
  appRole?: string | readonly string[];
  /** Machine-token scope(s): one of the token's `scopes` must equal one of these exactly (whole values, never substrings). */
  scope?: string | readonly string[];
  /** A custom check on the auth object; return `false` to forbid. */
  predicate?: (auth: ClerkAuthObject) => boolean;
}

/**
 * The outcome of `checkRequirement`.
 *
 * @example
 * ```ts
 * const check: AuthCheck = checkRequirement(result, { role: 'org:admin' });
 * if (!check.ok) return new Response(check.error.message, { status: check.error.status });
 * ```
 */
export type AuthCheck = { ok: true } | { ok: false; error: DenialError };

const OK: AuthCheck = { ok: true };

/**
 * Checks an authentication result against a requirement, in one place for every integration.
 * A malformed or ambiguous credential (several credentials, an `Authorization` that is not
 * `Bearer <token68>`) → `InvalidRequestError` (400); nobody (validly) signed in →
 * `UnauthenticatedError` (401); signed in but lacking something → `ForbiddenError` (403); the Backend
 * API unreachable while verifying → `ClerkApiUnavailableError` (503).
 *
 * @param appRoleClaim - Dot-path segments of the application-role claim (default `['metadata', 'role']`).
 *
 * @example
 * ```ts
 * import { checkRequirement } from 'clerk-api-auth';
 * const result = await clerkAuth.authenticate(request);
 * const check = checkRequirement(result, { permission: 'org:notes:create' });
 * if (!check.ok) return Response.json({ code: check.error.code }, { status: check.error.status });
 * ```
 */
export function checkRequirement(
  result: AuthenticateResult,
  requirement: AuthRequirement = {},
  appRoleClaim: readonly string[] = ['metadata', 'role'],
): AuthCheck {
  const { auth } = result;
  if (!auth.isAuthenticated) {
    const reason = result.reason ?? SignedOutReason.TokenMissing;
    // Server-side failures (Backend API unreachable, or refusing our secret key) never blame the caller's token.
    const serverSide = reason === SignedOutReason.ClerkApiUnavailable || reason === SignedOutReason.SecretKeyInvalid;
    if (serverSide) return { ok: false, error: new ClerkApiUnavailableError(reason, result.retryAfterSeconds) };
    if (isMalformedRequest(reason)) return { ok: false, error: new InvalidRequestError(reason) };
    return { ok: false, error: new UnauthenticatedError(reason) };
  }
  if (!accepts(requirement.token ?? 'session_token', auth.tokenType)) {
    return { ok: false, error: new UnauthenticatedError(SignedOutReason.TokenTypeMismatch) };
  }
  const failed: string[] = [];
  const has = (params: HasParams): boolean => auth.has(params);
  if (requirement.role !== undefined && !anyOf(requirement.role, (role) => has({ role }))) failed.push('role');
  if (requirement.permission !== undefined && !anyOf(requirement.permission, (permission) => has({ permission }))) failed.push('permission');
  if (requirement.feature !== undefined && !anyOf(requirement.feature, (feature) => has({ feature }))) failed.push('feature');
  if (requirement.plan !== undefined && !anyOf(requirement.plan, (plan) => has({ plan }))) failed.push('plan');
  if (requirement.reverification !== undefined && !has({ reverification: requirement.reverification })) failed.push('reverification');
  if (requirement.appRole !== undefined) {
    const claims = auth.tokenType === 'session_token' ? auth.sessionClaims : null;
    const actual = readPath(claims, appRoleClaim);
    const roles = Array.isArray(actual) ? actual : [actual];
    if (!anyOf(requirement.appRole, (role) => roles.includes(role))) failed.push('appRole');
  }
  if (requirement.scope !== undefined) {
    // A set of whole values: never a substring of a string, never a session's.
    const granted = new Set(auth.tokenType !== 'session_token' ? scopeList(auth.scopes) : []);
    if (!anyOf(requirement.scope, (scope) => granted.has(scope))) failed.push('scope');
  }
  if (requirement.predicate !== undefined && !safePredicate(requirement.predicate, auth)) failed.push('predicate');
  return failed.length === 0 ? OK : { ok: false, error: new ForbiddenError(failed) };
}

/** Reasons that are the request's fault, not the token's: RFC 6750 `invalid_request` (400). */
function isMalformedRequest(reason: SignedOutReason): boolean {
  return reason === SignedOutReason.MultipleAuthorizationHeaders || reason === SignedOutReason.MalformedAuthorizationHeader;
}

function anyOf(wanted: string | readonly string[], test: (value: string) => boolean): boolean {
  if (typeof wanted === 'string') return test(wanted);
  return wanted.some(test);
}

function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function safePredicate(predicate: (auth: ClerkAuthObject) => boolean, auth: ClerkAuthObject): boolean {
  try {
    return predicate(auth) === true;
  } catch {
    return false;
  }
}
