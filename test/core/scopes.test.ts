/**
 * Scopes are sets of whole values. An M2M JWT whose `aud` is the string "mch_billing_admin" grants
 * exactly `mch_billing_admin` — not `mch_billing`, `admin` or `m` (a substring search on a string).
 * `auth.scopes` is always a list of strings, whatever shape the claim or the Backend API answer had.
 */
import { createClerkClient } from '@clerk/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequirement, createClerkAuth, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { m2mJwtScopes, oauthJwtScopes, scopeList } from '../../src/core/scopes.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
});
afterAll(() => api.close());

/** An M2M JWT with the given extra claims, signed by the instance key. */
function m2mJwt(claims: Record<string, unknown>): Promise<string> {
  const t = now();
  return issuer.sign({ iss: issuer.issuerUrl, sub: 'mch_caller', jti: 'mt_scopes', iat: t, nbf: t - 5, exp: t + 600, ...claims }, { alg: 'RS256', typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD333AAA' });
}

function allowed(result: AuthenticateResult, scope: string | string[], token: 'm2m_token' | 'api_key' | 'oauth_token' = 'm2m_token'): boolean | number {
  const check = checkRequirement(result, { token, scope });
  return check.ok || check.error.status;
}

function scopesOf(result: AuthenticateResult): unknown {
  expect(result.reason).toBeNull();
  return result.auth.isAuthenticated && result.auth.tokenType !== 'session_token' ? result.auth.scopes : 'not a machine';
}

describe('M2M JWT scopes are whole values', () => {
  it('a string aud is one scope: mch_billing_admin grants itself, never mch_billing, admin or m', async () => {
    const result = await clerkAuth.authenticate(await m2mJwt({ aud: 'mch_billing_admin' }), { acceptsToken: 'm2m_token' });
    expect(scopesOf(result)).toEqual(['mch_billing_admin']);
    expect(allowed(result, 'mch_billing_admin')).toBe(true);
    for (const part of ['mch_billing', 'admin', 'm', 'billing', '_', 'mch_billing_admin_x']) expect(allowed(result, part), part).toBe(403);
    expect(allowed(result, ['admin', 'mch_billing_admin'])).toBe(true);
    expect(allowed(result, ['admin', 'm'])).toBe(403);
  });

  it('@clerk/backend itself passes a string aud through as `scopes` (the difference is deliberate)', async () => {
    const clerk = createClerkClient({ jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl, publishableKey: issuer.publishableKey });
    const token = await m2mJwt({ aud: 'mch_billing_admin' });
    const state = await clerk.authenticateRequest(new Request('http://localhost/', { headers: { authorization: `Bearer ${token}` } }), { acceptsToken: 'm2m_token' });
    const auth = state.toAuth() as { scopes?: unknown };
    expect(auth.scopes).toBe('mch_billing_admin');
  });

  it('an array aud is a set of whole values; non-strings in it grant nothing', async () => {
    const result = await clerkAuth.authenticate(await m2mJwt({ aud: ['mch_notes', 'mch_billing', 7, null] }), { acceptsToken: 'm2m_token' });
    expect(scopesOf(result)).toEqual(['mch_notes', 'mch_billing']);
    expect(allowed(result, 'mch_billing')).toBe(true);
    expect(allowed(result, 'mch_notes')).toBe(true);
    for (const part of ['mch', 'notes', 'mch_notes,mch_billing', '7']) expect(allowed(result, part), part).toBe(403);
  });

  it('a space-separated `scopes` claim is split into values (and wins over aud, as in @clerk/backend)', async () => {
    const result = await clerkAuth.authenticate(await m2mJwt({ scopes: 'notes:read notes:write', aud: ['mch_other'] }), { acceptsToken: 'm2m_token' });
    expect(scopesOf(result)).toEqual(['notes:read', 'notes:write']);
    expect(allowed(result, 'notes:write')).toBe(true);
    for (const part of ['notes', 'read', 'notes:read notes:write', 'mch_other']) expect(allowed(result, part), part).toBe(403);
  });

  it('a `scopes` claim that is not a string is refused (@clerk/backend throws on it)', async () => {
    const result = await clerkAuth.authenticate(await m2mJwt({ scopes: ['notes:read'] }), { acceptsToken: 'm2m_token' });
    expect(result.reason).toBe('token-invalid');
    expect(result.auth.isAuthenticated).toBe(false);
  });

  it('no aud and no scopes claim: no scopes', async () => {
    const result = await clerkAuth.authenticate(await m2mJwt({}), { acceptsToken: 'm2m_token' });
    expect(scopesOf(result)).toEqual([]);
    expect(allowed(result, 'm')).toBe(403);
  });
});

describe('OAuth and opaque token scopes are whole values', () => {
  it('OAuth JWT: the scope claim is split; a string scp is one value', async () => {
    const t = now();
    const sign = (claims: Record<string, unknown>) =>
      issuer.sign({ iss: issuer.issuerUrl, sub: 'user_o', client_id: 'client_1', jti: 'oat_s', iat: t, nbf: t - 5, exp: t + 600, ...claims }, { alg: 'RS256', typ: 'at+jwt', kid: issuer.kid });
    const split = await clerkAuth.authenticate(await sign({ scope: 'profile email' }), { acceptsToken: 'oauth_token' });
    expect(scopesOf(split)).toEqual(['profile', 'email']);
    expect(allowed(split, 'email', 'oauth_token')).toBe(true);
    expect(allowed(split, 'mail', 'oauth_token')).toBe(403);
    const scp = await clerkAuth.authenticate(await sign({ scp: 'profile email' }), { acceptsToken: 'oauth_token' });
    expect(scopesOf(scp)).toEqual(['profile email']);
    expect(allowed(scp, 'profile', 'oauth_token')).toBe(403);
    const list = await clerkAuth.authenticate(await sign({ scp: ['profile', 'email'] }), { acceptsToken: 'oauth_token' });
    expect(scopesOf(list)).toEqual(['profile', 'email']);
  });

  it('opaque API key and M2M token: the Backend API’s scopes, matched as whole values', async () => {
    const key = issuer.apiKey({ subject: 'user_k', scopes: ['notes:read', 'billing_admin'] });
    const apiKey = await clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' });
    expect(scopesOf(apiKey)).toEqual(['notes:read', 'billing_admin']);
    expect(allowed(apiKey, 'billing_admin', 'api_key')).toBe(true);
    for (const part of ['billing', 'admin', 'notes', 'read']) expect(allowed(apiKey, part, 'api_key'), part).toBe(403);
    const m2m = issuer.opaqueM2mToken({ machineId: 'mch_cron', scopes: ['mch_billing_admin'] });
    const machine = await clerkAuth.authenticate(m2m.token, { acceptsToken: 'm2m_token' });
    expect(scopesOf(machine)).toEqual(['mch_billing_admin']);
    expect(allowed(machine, 'mch_billing_admin')).toBe(true);
    expect(allowed(machine, 'mch_billing')).toBe(403);
  });

  it('checkRequirement treats a string `scopes` on a hand-made auth object as one value, never a substring', async () => {
    const real = await clerkAuth.authenticate(await m2mJwt({ aud: ['x'] }), { acceptsToken: 'm2m_token' });
    const handMade = { ...real, auth: { ...real.auth, scopes: 'mch_billing_admin' } } as unknown as AuthenticateResult;
    expect(allowed(handMade, 'mch_billing_admin')).toBe(true);
    expect(allowed(handMade, 'admin')).toBe(403);
    expect(allowed(handMade, 'm')).toBe(403);
    const odd = { ...real, auth: { ...real.auth, scopes: { admin: true } } } as unknown as AuthenticateResult;
    expect(allowed(odd, 'admin')).toBe(403);
  });
});

describe('scope helpers', () => {
  it('scopeList, m2mJwtScopes, oauthJwtScopes', () => {
    expect(scopeList('a b')).toEqual(['a b']);
    expect(scopeList(['a', 1, 'b'])).toEqual(['a', 'b']);
    expect(scopeList(undefined)).toEqual([]);
    expect(scopeList({ length: 1, 0: 'a' })).toEqual([]);
    expect(m2mJwtScopes({ aud: 'mch_a' })).toEqual(['mch_a']);
    expect(m2mJwtScopes({ scopes: 'a b', aud: ['c'] })).toEqual(['a', 'b']);
    expect(m2mJwtScopes({ scopes: null, aud: ['c'] })).toEqual(['c']);
    expect(m2mJwtScopes({ scopes: 42 })).toBeUndefined();
    expect(oauthJwtScopes({ scope: 'a b' })).toEqual(['a', 'b']);
    expect(oauthJwtScopes({ scp: 'a b', scope: 'c' })).toEqual(['a b']);
    expect(oauthJwtScopes({})).toEqual([]);
    expect(oauthJwtScopes({ scope: ['a'] })).toBeUndefined();
  });
});
