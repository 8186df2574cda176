/**
 * RequestAuth: one request's credential verified at most once, only as far as a guard asks, and
 * decided as it counts at the moment of asking (real tokens, the loopback Backend API stand-in).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { requestAuth, settledRequestAuth } from '../../src/core/internal.js';
import { startOfSecond } from '../support/clock.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
});
afterAll(() => api.close());
beforeEach(() => api.resetCounts());

describe('requestAuth', () => {
  it('the session view never sends an opaque token to the Backend API', async () => {
    const key = issuer.apiKey({ subject: 'user_1' });
    const request = requestAuth(clerkAuth, `Bearer ${key.token}`);
    const session = await request.session();
    expect(session.reason).toBe('token-type-mismatch');
    expect(session.auth.tokenType).toBe('session_token');
    expect(session.auth.isAuthenticated).toBe(false);
    expect(api.count('api_keys.verify')).toBe(0);
  });

  it('a guard accepting the kind verifies it once; every later ask of the request reuses it', async () => {
    const key = issuer.apiKey({ subject: 'user_2' });
    const request = requestAuth(clerkAuth, key.token);
    const [a, b] = await Promise.all([request.accepting('api_key'), request.accepting(['api_key', 'm2m_token'])]);
    expect(a.auth.isAuthenticated && a.auth.tokenType).toBe('api_key');
    expect(b.auth).toBe(a.auth);
    expect(request.acceptingNow('any')?.auth).toBe(a.auth);
    expect(request.acceptingNow('m2m_token')?.reason).toBe('token-type-mismatch');
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('requests in the same tick share one Backend API verification of an opaque token', async () => {
    const key = issuer.apiKey({ subject: 'user_tick' });
    const results = await Promise.all([
      clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' }),
      clerkAuth.authenticate(key.token, { acceptsToken: ['m2m_token', 'api_key'] }),
      clerkAuth.authenticate(key.token, { acceptsToken: 'any' }),
    ]);
    expect(results.map((result) => result.reason)).toEqual([null, null, null]);
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('acceptingNow answers at once when nothing must be verified, else starts the verification', async () => {
    const key = issuer.apiKey({ subject: 'user_3' });
    const request = requestAuth(clerkAuth, key.token);
    expect(request.acceptingNow('session_token')?.reason).toBe('token-type-mismatch');
    expect(request.acceptingNow('api_key')).toBeUndefined();
    const settled = await request.accepting('api_key');
    expect(settled.reason).toBeNull();
    expect(request.acceptingNow('api_key')).toBe(settled);
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('an answer counts as of the moment it is asked for: expired means signed out', async () => {
    await startOfSecond();
    const token = await issuer.sessionToken({ userId: 'user_4', issuedAtOffsetSeconds: -59, expiresInSeconds: 60 });
    const request = requestAuth(clerkAuth, token);
    expect((await request.session()).reason).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = request.acceptingNow('session_token');
    expect(later?.reason).toBe('token-expired');
    expect(later?.auth.isAuthenticated).toBe(false);
  });

  it('settledRequestAuth narrows a known result by kind without verifying anything', () => {
    const machine = { auth: { tokenType: 'm2m_token', isAuthenticated: true } as never, reason: null };
    const request = settledRequestAuth(machine, 5000);
    expect(request.acceptingNow('m2m_token')).toBe(machine);
    expect(request.acceptingNow('session_token')?.reason).toBe('token-type-mismatch');
  });
});
