import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let stranger: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  api = await startFakeClerkApi({ issuer });
  // acceptedTtlMs: 0 — accepted opaque tokens are asked about every time, so revocation takes effect at
  // once (the default answers them from the store for 10 s: test/core/store-verification.test.ts).
  clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, machineTokens: { acceptedTtlMs: 0 } });
});
afterAll(() => api.close());

describe('machine tokens', () => {
  it('M2M JWT: machineId, scopes and claims, when m2m tokens are accepted', async () => {
    const token = await issuer.m2mToken({ machineId: 'mch_billing', scopes: ['mch_notes'], claims: { tier: 'gold' } });
    for (const acceptsToken of ['m2m_token', 'any', ['session_token', 'm2m_token']] as const) {
      const { auth, reason } = await clerkAuth.authenticate(token, { acceptsToken });
      expect(reason).toBeNull();
      if (auth.tokenType !== 'm2m_token' || !auth.isAuthenticated) throw new Error('expected an authenticated m2m object');
      expect(auth.machineId).toBe('mch_billing');
      expect(auth.subject).toBe('mch_billing');
      expect(auth.scopes).toEqual(['mch_notes']);
      expect(auth.claims).toMatchObject({ tier: 'gold' });
      expect(await auth.getToken()).toBe(token);
    }
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-type-mismatch');
    expect((await clerkAuth.authenticate(token, { acceptsToken: 'api_key' })).reason).toBe('token-type-mismatch');
  });

  it('M2M JWT signed by another key or expired is refused', async () => {
    expect((await clerkAuth.authenticate(await stranger.m2mToken(), { acceptsToken: 'any' })).reason).toBe('jwk-kid-mismatch');
    const networkless = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    expect((await networkless.authenticate(await stranger.m2mToken(), { acceptsToken: 'any' })).reason).toBe('token-invalid-signature');
    expect((await networkless.authenticate(await issuer.m2mToken({ expiresInSeconds: -60 }), { acceptsToken: 'm2m_token' })).reason).toBe('token-expired');
    const ok = await networkless.authenticate(await issuer.m2mToken({ machineId: 'mch_ok' }), { acceptsToken: 'm2m_token' });
    expect(ok.auth.tokenType === 'm2m_token' && ok.auth.machineId).toBe('mch_ok');
  });

  it('OAuth access token (JWT)', async () => {
    const token = await issuer.oauthToken({ userId: 'user_1', clientId: 'client_9', scopes: ['profile', 'email'] });
    const { auth, reason } = await clerkAuth.authenticate(token, { acceptsToken: 'oauth_token' });
    expect(reason).toBeNull();
    if (auth.tokenType !== 'oauth_token' || !auth.isAuthenticated) throw new Error('expected an oauth object');
    expect(auth.userId).toBe('user_1');
    expect(auth.clientId).toBe('client_9');
    expect(auth.scopes).toEqual(['profile', 'email']);
  });

  it('opaque API key and M2M token, verified by the Backend API', async () => {
    const key = issuer.apiKey({ subject: 'org_7', scopes: ['notes:read'], name: 'ci' });
    const apiKey = await clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' });
    expect(apiKey.reason).toBeNull();
    if (apiKey.auth.tokenType !== 'api_key' || !apiKey.auth.isAuthenticated) throw new Error('expected an api_key object');
    expect(apiKey.auth.orgId).toBe('org_7');
    expect(apiKey.auth.userId).toBeNull();
    expect(apiKey.auth.name).toBe('ci');
    expect(apiKey.auth.scopes).toEqual(['notes:read']);

    const m2m = issuer.opaqueM2mToken({ machineId: 'mch_cron' });
    const result = await clerkAuth.authenticate(m2m.token, { acceptsToken: 'm2m_token' });
    expect(result.auth.tokenType === 'm2m_token' && result.auth.isAuthenticated && result.auth.machineId).toBe('mch_cron');

    issuer.revoke(key.token);
    const revoked = await clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' });
    expect(revoked.reason).toBe('token-invalid');
    expect(revoked.auth.isAuthenticated).toBe(false);
    expect(revoked.auth.tokenType).toBe('api_key');
    expect((await clerkAuth.authenticate('ak_unknown', { acceptsToken: 'api_key' })).reason).toBe('token-invalid');
  });

  it('concurrent requests with one opaque token share one Backend API call; the next request asks again', async () => {
    const key = issuer.apiKey({ subject: 'user_burst', scopes: ['notes:read'] });
    api.resetCounts();
    const results = await Promise.all(Array.from({ length: 25 }, () => clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' })));
    expect(api.count('api_keys.verify')).toBe(1);
    for (const { auth, reason } of results) {
      expect(reason).toBeNull();
      expect(auth.tokenType === 'api_key' && auth.isAuthenticated && auth.userId).toBe('user_burst');
    }
    // A waiter that accepts only sessions gets its own answer from the shared outcome.
    const mixed = await Promise.all([
      clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' }),
      clerkAuth.authenticate(key.token, { acceptsToken: 'any' }),
    ]);
    expect(mixed.map((r) => r.reason)).toEqual([null, null]);
    expect(api.count('api_keys.verify')).toBe(2);
    // With acceptedTtlMs: 0 nothing accepted is kept once the call settles: revocation takes effect on the next request.
    issuer.revoke(key.token);
    const revoked = await Promise.all(Array.from({ length: 5 }, () => clerkAuth.authenticate(key.token, { acceptsToken: 'api_key' })));
    expect(revoked.map((r) => r.reason)).toEqual(Array(5).fill('token-invalid'));
    expect(api.count('api_keys.verify')).toBe(3);
    // Different tokens are never merged.
    const [a, b] = [issuer.apiKey({ subject: 'user_a' }), issuer.apiKey({ subject: 'user_b' })];
    const [ra, rb] = await Promise.all([clerkAuth.authenticate(a.token, { acceptsToken: 'api_key' }), clerkAuth.authenticate(b.token, { acceptsToken: 'api_key' })]);
    expect(ra.auth.tokenType === 'api_key' && ra.auth.isAuthenticated && ra.auth.userId).toBe('user_a');
    expect(rb.auth.tokenType === 'api_key' && rb.auth.isAuthenticated && rb.auth.userId).toBe('user_b');
    expect(api.count('api_keys.verify')).toBe(5);
  });

  it('a session token where only machine tokens are accepted', async () => {
    const result = await clerkAuth.authenticate(await issuer.sessionToken(), { acceptsToken: 'm2m_token' });
    expect(result.reason).toBe('token-type-mismatch');
    expect(result.auth.tokenType).toBe('m2m_token');
    expect(result.auth.isAuthenticated).toBe(false);
  });
});
