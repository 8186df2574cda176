import type { DenialError } from './challenge.js';
import type { OrganizationCustomPermissionKey, OrganizationCustomRoleKey } from '@clerk/shared/types';
import { ClerkApiUnavailableError, ForbiddenError, InvalidRequestError, PaymentRequiredError, UnauthenticatedError, type MissingEntitlements } from './errors.js';
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
 * An organization role as the app declares them: Clerk's `OrganizationCustomRoleKey`, which is
 * `string` until the app declares its roles through Clerk's global `ClerkAuthorization` interface
 * (`declare global { interface ClerkAuthorization { role: 'org:admin' | 'org:member'; permission: … } }`),
 * and then exactly those, so a mistyped role is a compile error.
 *
 * @example
 * ```ts
 * const role: OrganizationRole = 'org:admin';
 * ```
 */
export type OrganizationRole = OrganizationCustomRoleKey;

/**
 * An organization permission as the app declares them: Clerk's `OrganizationCustomPermissionKey`
 * (`string` until `ClerkAuthorization` declares `permission`).
 *
 * @example
 * ```ts
 * const permission: OrganizationPermission = 'org:notes:create';
 * ```
 */
export type OrganizationPermission = OrganizationCustomPermissionKey;

/**
 * What a guard requires. Every field is optional; all given fields must hold (AND). A list means
 * "any one of" (OR). An empty requirement means "signed in with an accepted token kind".
 *
 * `role` and `permission` are typed by Clerk's `ClerkAuthorization` declaration when the app makes
 * one (see `OrganizationRole`): then `{ role: 'org:admni' }` does not compile.
 *
 * @example
 * ```ts
 * const requirement: AuthRequirement = { role: ['org:admin', 'org:owner'], permission: 'org:notes:create' };
 * const sensitive: AuthRequirement = { organization: true, reverification: 'strict' };
 * ```
 */
export interface AuthRequirement {
  /** Accepted token kinds. Default `'session_token'`: machine tokens count only where a guard asks for them. */
  token?: AcceptsToken;
  /** Organization role(s), checked with Clerk's `has({ role })`. Denied: 403. */
  role?: OrganizationRole | readonly OrganizationRole[];
  /** Organization permission(s), checked with Clerk's `has({ permission })`. Denied: 403. */
  permission?: OrganizationPermission | readonly OrganizationPermission[];
  /** Billing feature(s) (Clerk Billing), checked with Clerk's `has({ feature })`. Denied: 402 `PAYMENT_REQUIRED`. */
  feature?: string | readonly string[];
  /** Billing plan(s) (Clerk Billing), checked with Clerk's `has({ plan })`. Denied: 402 `PAYMENT_REQUIRED`. */
  plan?: string | readonly string[];
  /**
   * Recent reverification, checked with Clerk's `has({ reverification })`. Denied: 403 carrying
   * Clerk's reverification hint (`ForbiddenError.clerkError`), so `useReverification` prompts and retries.
   */
  reverification?: ReverificationRequirement;
  /**
   * `true`: an active organization — a session with an active organization (`orgId`), or an API key
   * owned by an organization. A personal-account session is refused (403, failed `organization`).
   * In tRPC, `authorize({ organization: true })` narrows `ctx.auth.orgId` to `string`.
   */
  organization?: true;
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
 * `UnauthenticatedError` (401); signed in but lacking a role, permission, active organization,
 * application role, scope or predicate → `ForbiddenError` (403); lacking only a billing feature or
 * plan → `PaymentRequiredError` (402); lacking only a recent reverification → `ForbiddenError` (403)
 * carrying Clerk's reverification hint (`clerkError`); the Backend API unreachable while verifying →
 * `ClerkApiUnavailableError` (503). When several parts fail, the answer is what would make the call
 * succeed first: what an administrator grants (403) over what payment grants (402) over a
 * reverification (403 with the hint); `failed` lists every part that failed.
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
  // What an administrator grants (403), what payment grants (402), and a recent reverification
  // (403 with Clerk's hint): the answer says what would make the call succeed.
  const forbidden: string[] = [];
  const payment: string[] = [];
  const missing: MissingEntitlements = {};
  const has = (params: HasParams): boolean => auth.has(params);
  if (requirement.organization === true && !hasActiveOrganization(auth)) forbidden.push('organization');
  if (requirement.role !== undefined && !anyOf(requirement.role, (role) => has({ role }))) forbidden.push('role');
  if (requirement.permission !== undefined && !anyOf(requirement.permission, (permission) => has({ permission }))) forbidden.push('permission');
  if (requirement.feature !== undefined && !anyOf(requirement.feature, (feature) => has({ feature }))) {
    payment.push('feature');
    missing.feature = listOf(requirement.feature);
  }
  if (requirement.plan !== undefined && !anyOf(requirement.plan, (plan) => has({ plan }))) {
    payment.push('plan');
    missing.plan = listOf(requirement.plan);
  }
  const reverify = requirement.reverification !== undefined && !has({ reverification: requirement.reverification });
  if (requirement.appRole !== undefined) {
    const claims = auth.tokenType === 'session_token' ? auth.sessionClaims : null;
    const actual = readPath(claims, appRoleClaim);
    const roles = Array.isArray(actual) ? actual : [actual];
    if (!anyOf(requirement.appRole, (role) => roles.includes(role))) forbidden.push('appRole');
  }
  if (requirement.scope !== undefined) {
    // A set of whole values: never a substring of a string, never a session's.
    const granted = new Set(auth.tokenType !== 'session_token' ? scopeList(auth.scopes) : []);
    if (!anyOf(requirement.scope, (scope) => granted.has(scope))) forbidden.push('scope');
  }
  if (requirement.predicate !== undefined && !safePredicate(requirement.predicate, auth)) forbidden.push('predicate');
  if (forbidden.length === 0 && payment.length === 0 && !reverify) return OK;
  const failed = [...forbidden, ...payment, ...(reverify ? ['reverification'] : [])];
  if (forbidden.length > 0) return { ok: false, error: new ForbiddenError(failed) };
  if (payment.length > 0) return { ok: false, error: new PaymentRequiredError(failed, missing) };
  return { ok: false, error: new ForbiddenError(failed, { reverification: requirement.reverification as ReverificationRequirement }) };
}

/** An active organization: a session's `orgId`, or the organization owning an API key. */
function hasActiveOrganization(auth: ClerkAuthObject): boolean {
  const orgId = (auth as { orgId?: unknown }).orgId;
  return (auth.tokenType === 'session_token' || auth.tokenType === 'api_key') && typeof orgId === 'string' && orgId !== '';
}

function listOf(wanted: string | readonly string[]): readonly string[] {
  return Object.freeze(typeof wanted === 'string' ? [wanted] : [...wanted]);
}

/** Reasons that are the request's fault, not the token's: RFC 6750 `invalid_request` (400). */
function isMalformedRequest(reason: SignedOutReason): boolean {
  return reason === SignedOutReason.MultipleAuthorizationHeaders || reason === SignedOutReason.MalformedAuthorizationHeader;
}

function anyOf<T extends string>(wanted: T | readonly T[], test: (value: T) => boolean): boolean {
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
