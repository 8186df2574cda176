/**
 * The core's answers for Clerk's newest authorization checks, in-process with real tokens from the
 * test issuer: billing features and plans (402), reverification (403 carrying Clerk's hint), an
 * active organization (403 with its own reason), what wins when several parts fail, the one
 * precedence across denials, and the validation of the new requirement key.
 */
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  challengeOf,
  checkRequirement,
  ClerkApiUnavailableError,
  ClerkAuthConfigError,
  createClerkAuth,
  ForbiddenError,
  InvalidRequestError,
  isClerkAuthError,
  PaymentRequiredError,
  UnauthenticatedError,
  validateRequirement,
  type AuthCheck,
  type ClerkAuth,
  type DenialError,
} from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'any' });
});

afterAll(async () => {
  await api?.close();
});

function denied(check: AuthCheck): DenialError {
  if (check.ok) throw new Error('expected a denial');
  return check.error;
}

const session = async (options: Parameters<TestIssuer['sessionToken']>[0] = {}) => clerkAuth.authenticate(await issuer.sessionToken({ userId: 'user_e', ...options }));

describe('billing features and plans: 402 PAYMENT_REQUIRED naming what is missing', () => {
  it('a missing feature is a PaymentRequiredError with status 402, insufficient_scope, and the feature named', async () => {
    const error = denied(checkRequirement(await session(), { feature: 'reports' }));
    expect(error.code).toBe('PAYMENT_REQUIRED');
    expect(error.status).toBe(402);
    expect(error).toBeInstanceOf(PaymentRequiredError);
    const payment = error as PaymentRequiredError;
    expect(payment.failed).toEqual(['feature']);
    expect(payment.missing).toEqual({ feature: ['reports'] });
    expect(payment.message).toContain('"reports"');
    expect(payment.message).toMatch(/Payment required/);
    expect(payment.wwwAuthenticate).toBe('Bearer error="insufficient_scope"');
    expect(isClerkAuthError(payment)).toBe(true);
    expect(challengeOf(payment)).toEqual({ status: 402, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } });
  });

  it('a missing plan, and any one of several: named in the message and in `missing`', async () => {
    const error = denied(checkRequirement(await session({ plans: ['u:free'] }), { plan: ['pro', 'team'] })) as PaymentRequiredError;
    expect(error.code).toBe('PAYMENT_REQUIRED');
    expect(error.missing).toEqual({ plan: ['pro', 'team'] });
    expect(error.message).toContain('one of the plans "pro", "team"');
    const both = denied(checkRequirement(await session(), { feature: 'reports', plan: 'pro' })) as PaymentRequiredError;
    expect(both.failed).toEqual(['feature', 'plan']);
    expect(both.missing).toEqual({ feature: ['reports'], plan: ['pro'] });
  });

  it('the feature or plan held: allowed (user and organization scopes, Clerk’s has())', async () => {
    expect(checkRequirement(await session({ features: ['reports'] }), { feature: 'reports' }).ok).toBe(true);
    expect(checkRequirement(await session({ plans: ['u:pro'] }), { plan: 'pro' }).ok).toBe(true);
    expect(checkRequirement(await session({ features: ['o:reports'], org: { id: 'org_1', role: 'member' } }), { feature: 'reports' }).ok).toBe(true);
  });

  it('a role missing too: 403, because paying would not make the call succeed', async () => {
    const error = denied(checkRequirement(await session({ org: { id: 'org_1', role: 'member' } }), { role: 'org:admin', feature: 'reports' }));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.status).toBe(403);
    expect((error as ForbiddenError).failed).toEqual(['role', 'feature']);
    expect((error as ForbiddenError).clerkError).toBeUndefined();
  });
});

describe('reverification: 403 carrying Clerk’s reverification hint', () => {
  it('a stale factor verification age: 403 whose clerkError is exactly what @clerk/shared builds and recognises', async () => {
    const stale = await session({ factorVerificationAge: [30, -1] });
    const error = denied(checkRequirement(stale, { reverification: 'strict' })) as ForbiddenError;
    expect(error.code).toBe('FORBIDDEN');
    expect(error.status).toBe(403);
    expect(error.failed).toEqual(['reverification']);
    expect(error.reverification).toBe('strict');
    expect(error.clerkError).toEqual({ type: 'forbidden', reason: 'reverification-error', metadata: { reverification: 'strict' } });
    expect(error.clerkError).toEqual(reverificationError('strict').clerk_error);
    expect(isReverificationHint({ clerk_error: error.clerkError })).toBe(true);
    expect(error.message).toMatch(/recent reverification/);
    expect(error.wwwAuthenticate).toBe('Bearer error="insufficient_scope"');
    expect(challengeOf(error)).toEqual({ status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } });
  });

  it('a fresh verification passes; a custom { level, afterMinutes } window is carried in the hint as written', async () => {
    expect(checkRequirement(await session({ factorVerificationAge: [0, -1] }), { reverification: 'strict' }).ok).toBe(true);
    const window = { level: 'first_factor', afterMinutes: 5 } as const;
    expect(checkRequirement(await session({ factorVerificationAge: [4, -1] }), { reverification: window }).ok).toBe(true);
    const error = denied(checkRequirement(await session({ factorVerificationAge: [6, -1] }), { reverification: window })) as ForbiddenError;
    expect(error.clerkError?.metadata.reverification).toEqual(window);
    expect(error.message).toContain('first_factor within 5 minutes');
  });

  it('no hint when something else is missing: reverifying would not help', async () => {
    const stale = await session({ factorVerificationAge: [30, -1], org: { id: 'org_1', role: 'member' } });
    const withRole = denied(checkRequirement(stale, { role: 'org:admin', reverification: 'strict' })) as ForbiddenError;
    expect(withRole.code).toBe('FORBIDDEN');
    expect(withRole.failed).toEqual(['role', 'reverification']);
    expect(withRole.clerkError).toBeUndefined();
    // A feature missing too: 402 first (payment), the reverification is asked on the retry.
    const withFeature = denied(checkRequirement(stale, { feature: 'reports', reverification: 'strict' }));
    expect(withFeature.code).toBe('PAYMENT_REQUIRED');
    expect((withFeature as PaymentRequiredError).failed).toEqual(['feature', 'reverification']);
  });

  it('signed out stays 401: no hint for a caller who is not signed in', async () => {
    const error = denied(checkRequirement(await clerkAuth.authenticate(null), { reverification: 'strict' }));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error).toBeInstanceOf(UnauthenticatedError);
  });
});

describe('an active organization (`organization: true`)', () => {
  it('a personal-account session is refused with a reason saying so', async () => {
    const error = denied(checkRequirement(await session(), { organization: true })) as ForbiddenError;
    expect(error.code).toBe('FORBIDDEN');
    expect(error.status).toBe(403);
    expect(error.failed).toEqual(['organization']);
    expect(error.message).toMatch(/needs an active organization.*personal account/);
    expect(error.clerkError).toBeUndefined();
  });

  it('a session with an active organization passes; with a role requirement both are named when neither holds', async () => {
    expect(checkRequirement(await session({ org: { id: 'org_1', role: 'member' } }), { organization: true }).ok).toBe(true);
    const error = denied(checkRequirement(await session(), { organization: true, role: 'org:admin' })) as ForbiddenError;
    expect(error.failed).toEqual(['organization', 'role']);
    expect(error.message).toMatch(/active organization/);
  });

  it('machine tokens: an API key owned by an organization passes, a user’s key and an M2M token do not', async () => {
    const orgKey = await clerkAuth.authenticate(issuer.apiKey({ subject: 'org_1' }).token, { acceptsToken: 'api_key' });
    expect(orgKey.auth.isAuthenticated).toBe(true);
    expect(checkRequirement(orgKey, { token: 'api_key', organization: true }).ok).toBe(true);
    const userKey = await clerkAuth.authenticate(issuer.apiKey({ subject: 'user_1' }).token, { acceptsToken: 'api_key' });
    expect((denied(checkRequirement(userKey, { token: 'api_key', organization: true })) as ForbiddenError).failed).toEqual(['organization']);
    const m2m = await clerkAuth.authenticate(await issuer.m2mToken({ machineId: 'mch_1' }), { acceptsToken: 'm2m_token' });
    expect((denied(checkRequirement(m2m, { token: 'any', organization: true })) as ForbiddenError).failed).toEqual(['organization']);
  });

  it('is validated when the guard is defined: only `true`, and only where a token kind can carry an organization', () => {
    expect(validateRequirement({ organization: true }, 'guard')).toEqual({ organization: true });
    expect(validateRequirement({ organization: true, token: ['m2m_token', 'api_key'] }, 'guard').organization).toBe(true);
    expect(() => validateRequirement({ organization: 'yes' }, 'guard')).toThrow(ClerkAuthConfigError);
    expect(() => validateRequirement({ organization: false }, 'guard')).toThrow(/must be `true`/);
    expect(() => validateRequirement({ organization: true, token: 'm2m_token' }, 'guard')).toThrow(/can never hold/);
    expect(() => validateRequirement({ organisation: true }, 'guard')).toThrow(/Did you mean "organization"/);
  });
});

describe('one precedence across denials: 503 > 400 > 401 > 403 > 402 > 403 with the hint', () => {
  const payment = new PaymentRequiredError(['feature'], { feature: ['reports'] });
  const forbidden = new ForbiddenError(['role']);
  const reverify = new ForbiddenError(['reverification'], { reverification: 'strict' });
  const unauthenticated = new UnauthenticatedError('token-missing' as never);

  it('orders the statuses whatever the order they arise in', () => {
    expect(challengeOf([payment, forbidden]).status).toBe(403);
    expect(challengeOf([forbidden, payment]).status).toBe(403);
    expect(challengeOf([reverify, payment]).status).toBe(402);
    expect(challengeOf([payment, reverify]).status).toBe(402);
    expect(challengeOf([payment, unauthenticated])).toEqual({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    expect(challengeOf([payment, new InvalidRequestError('malformed-authorization-header' as never)]).status).toBe(400);
    const outage = challengeOf([payment, new ClerkApiUnavailableError()]);
    expect(outage.status).toBe(503);
    expect(outage.headers['Retry-After']).toBe('1');
  });

  it('a 403 built with a reverification but failing something else carries no hint and ranks as a plain 403', () => {
    const mixed = new ForbiddenError(['role', 'reverification'], { reverification: 'strict' });
    expect(mixed.clerkError).toBeUndefined();
    expect(challengeOf([payment, mixed]).status).toBe(403);
  });
});
