import { beforeAll, describe, expect, it } from 'vitest';
import {
  ClerkApiUnavailableError,
  ForbiddenError,
  UnauthenticatedError,
  checkRequirement,
  createClerkAuth,
  type AuthCheck,
  type ClerkAuth,
} from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
});

function denied(check: AuthCheck) {
  if (check.ok) throw new Error('expected a denial');
  return check.error;
}

const member = () =>
  issuer.sessionToken({
    userId: 'user_m',
    org: { id: 'org_1', role: 'member', permissions: ['org:notes:read'] },
    features: ['u:export'],
    plans: ['u:pro'],
    claims: { metadata: { role: 'editor' }, app: { roles: ['billing', 'support'] } },
  });

describe('checkRequirement', () => {
  it('nobody signed in: 401 UNAUTHENTICATED with a bare Bearer challenge', async () => {
    const error = denied(checkRequirement(await clerkAuth.authenticate(null)));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.status).toBe(401);
    expect((error as UnauthenticatedError).reason).toBe('token-missing');
    expect((error as UnauthenticatedError).wwwAuthenticate).toBe('Bearer');
  });

  it('a rejected token: 401 with error="invalid_token", and no token in the message', async () => {
    const token = await issuer.sessionToken({ expiresInSeconds: -60 });
    const error = denied(checkRequirement(await clerkAuth.authenticate(token))) as UnauthenticatedError;
    expect(error.status).toBe(401);
    expect(error.reason).toBe('token-expired');
    expect(error.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect(error.message).not.toContain(token.slice(0, 20));
  });

  it('signed in with no other requirement: allowed', async () => {
    expect(checkRequirement(await clerkAuth.authenticate(await member())).ok).toBe(true);
  });

  it('roles and permissions via Clerk’s has(); a list means any of', async () => {
    const result = await clerkAuth.authenticate(await member());
    expect(checkRequirement(result, { role: 'org:member' }).ok).toBe(true);
    expect(checkRequirement(result, { role: ['org:admin', 'org:member'] }).ok).toBe(true);
    expect(checkRequirement(result, { permission: 'org:notes:read' }).ok).toBe(true);
    const error = denied(checkRequirement(result, { role: 'org:admin' }));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('FORBIDDEN');
    expect((error as ForbiddenError).failed).toEqual(['role']);
    expect((denied(checkRequirement(result, { role: 'org:member', permission: 'org:notes:create' })) as ForbiddenError).failed).toEqual(['permission']);
  });

  it('features, plans and reverification', async () => {
    const result = await clerkAuth.authenticate(await member());
    expect(checkRequirement(result, { feature: 'export', plan: 'pro' }).ok).toBe(true);
    expect((denied(checkRequirement(result, { feature: 'analytics', plan: 'enterprise' })) as ForbiddenError).failed).toEqual(['feature', 'plan']);
    expect(checkRequirement(result, { reverification: 'strict' }).ok).toBe(true);
    const stale = await clerkAuth.authenticate(await issuer.sessionToken({ factorVerificationAge: [120, -1] }));
    expect((denied(checkRequirement(stale, { reverification: 'strict' })) as ForbiddenError).failed).toEqual(['reverification']);
  });

  it('application roles from session claims (metadata.role by default, path configurable)', async () => {
    const result = await clerkAuth.authenticate(await member());
    expect(checkRequirement(result, { appRole: 'editor' }).ok).toBe(true);
    expect(checkRequirement(result, { appRole: ['admin', 'editor'] }).ok).toBe(true);
    expect(denied(checkRequirement(result, { appRole: 'admin' })).status).toBe(403);
    const custom = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, appRoleClaim: 'app.roles' });
    const customResult = await custom.authenticate(await member());
    expect(custom.check(customResult, { appRole: 'support' }).ok).toBe(true);
    expect(custom.check(customResult, { appRole: 'editor' }).ok).toBe(false);
  });

  it('a custom predicate; one that throws forbids', async () => {
    const result = await clerkAuth.authenticate(await member());
    expect(checkRequirement(result, { predicate: (auth) => auth.tokenType === 'session_token' && auth.userId === 'user_m' }).ok).toBe(true);
    expect((denied(checkRequirement(result, { predicate: () => false })) as ForbiddenError).failed).toEqual(['predicate']);
    expect(
      denied(
        checkRequirement(result, {
          predicate: () => {
            throw new Error('bug');
          },
        }),
      ).status,
    ).toBe(403);
  });

  it('machine tokens count only where the requirement asks for them', async () => {
    const machine = await clerkAuth.authenticate(await issuer.m2mToken({ machineId: 'mch_1', scopes: ['mch_api'] }), { acceptsToken: 'any' });
    const error = denied(checkRequirement(machine)) as UnauthenticatedError;
    expect(error.status).toBe(401);
    expect(error.reason).toBe('token-type-mismatch');
    expect(checkRequirement(machine, { token: 'm2m_token' }).ok).toBe(true);
    expect(checkRequirement(machine, { token: 'm2m_token', scope: 'mch_api' }).ok).toBe(true);
    expect(denied(checkRequirement(machine, { token: 'm2m_token', scope: 'mch_other' })).status).toBe(403);
    expect(denied(checkRequirement(machine, { token: 'm2m_token', role: 'org:admin' })).status).toBe(403);
    const session = await clerkAuth.authenticate(await member(), { acceptsToken: 'any' });
    expect(denied(checkRequirement(session, { token: 'm2m_token' })).status).toBe(401);
  });

  it('an unreachable Backend API is a 503 to retry, not a 401', async () => {
    const error = denied(checkRequirement({ auth: (await clerkAuth.authenticate(null)).auth, reason: 'clerk-api-unavailable' }));
    expect(error).toBeInstanceOf(ClerkApiUnavailableError);
    expect(error.status).toBe(503);
  });
});

describe('validateRequirement', () => {
  it('accepts well-formed requirements and refuses typos at definition time', async () => {
    const { validateRequirement, ClerkAuthConfigError } = await import('clerk-api-auth');
    const ok = { role: ['org:admin'], token: 'session_token' as const, predicate: () => true };
    expect(validateRequirement(ok, 'guard')).toBe(ok);
    for (const bad of [{ rol: 'org:admin' }, { role: '' }, { role: [] }, { token: 'cookie' }, { predicate: 'yes' }, null, 'org:admin']) {
      expect(() => validateRequirement(bad, 'guard'), JSON.stringify(bad)).toThrow(ClerkAuthConfigError);
    }
    expect(() => validateRequirement({ rol: 'x' }, 'adminOnly')).toThrow(/adminOnly has an unknown key "rol"/);
  });
});

describe('a server-side key problem never blames the caller', () => {
  it('secret-key-invalid is a 503 naming CLERK_SECRET_KEY, not a 401 invalid_token', async () => {
    const { auth } = await clerkAuth.authenticate(null);
    const error = denied(checkRequirement({ auth, reason: 'secret-key-invalid' }));
    expect(error).toBeInstanceOf(ClerkApiUnavailableError);
    expect(error.status).toBe(503);
    expect((error as ClerkApiUnavailableError).reason).toBe('secret-key-invalid');
    expect(error.message).toMatch(/CLERK_SECRET_KEY/);
  });
});
