import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let stranger: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  api = await startFakeClerkApi({ issuer });
});
afterEach(() => {
  api.setFault({ mode: 'none' });
  api.resetCounts();
});
afterAll(() => api.close());

const remote = (extra: Parameters<typeof createClerkAuth>[0] = {}) =>
  createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, ...extra });

describe('secret key only: keys from the Backend API JWKS', () => {
  it('fetches the JWKS once for 50 concurrent cold requests and 50 more', async () => {
    const clerkAuth = remote();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.sessionToken({ userId: `user_${i}` })));
    const first = await Promise.all(tokens.map((t) => clerkAuth.authenticate(t)));
    const second = await Promise.all(tokens.map((t) => clerkAuth.authenticate(t)));
    for (const [i, result] of [...first, ...second].entries()) {
      expect(result.reason).toBeNull();
      expect(result.auth.tokenType === 'session_token' && result.auth.userId).toBe(`user_${i % 50}`);
    }
    expect(api.count('jwks')).toBe(1);
    expect(api.requestCount).toBe(1);
  });

  it('an unknown kid does not turn every request into a Backend API call', async () => {
    const clerkAuth = remote();
    expect((await clerkAuth.authenticate(await issuer.sessionToken())).reason).toBeNull();
    const foreign = await stranger.sessionToken();
    const results = await Promise.all(Array.from({ length: 30 }, () => clerkAuth.authenticate(foreign)));
    for (const result of results) expect(result.reason).toBe('jwk-kid-mismatch');
    for (let i = 0; i < 20; i++) expect((await clerkAuth.authenticate(foreign)).reason).toBe('jwk-kid-mismatch');
    expect(api.count('jwks')).toBeLessThanOrEqual(2);
  });

  it('a wrong secret key is a clear reason, not a hang', async () => {
    const clerkAuth = createClerkAuth({ env: {}, secretKey: 'sk_test_wrongwrongwrong', apiUrl: api.apiUrl });
    expect((await clerkAuth.authenticate(await issuer.sessionToken())).reason).toBe('secret-key-invalid');
  });

  it.each(['down', 'error', 'malformed'] as const)('API %s: signed out as clerk-api-unavailable, then recovers', async (mode) => {
    const clerkAuth = remote({ apiTimeoutMs: 500 });
    api.setFault({ mode });
    const token = await issuer.sessionToken();
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    api.setFault({ mode: 'none' });
    // Failure cooldown is 1 s: within it, requests are not sent to the failing API again.
    const countAfterFailure = api.requestCount;
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    expect(api.requestCount).toBe(countAfterFailure);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await clerkAuth.authenticate(token)).reason).toBeNull();
  });

  it('a slow API is cut off at apiTimeoutMs with clerk-api-unavailable', async () => {
    const clerkAuth = remote({ apiTimeoutMs: 200 });
    api.setFault({ mode: 'none', delayMs: 3000 });
    const result = await clerkAuth.authenticate(await issuer.sessionToken());
    expect(result.reason).toBe('clerk-api-unavailable');
  });
});

describe('JWT key only: networkless', () => {
  it('makes zero requests, whatever it is asked to verify', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, apiUrl: api.apiUrl });
    const inputs = [
      await issuer.sessionToken(),
      await issuer.sessionToken({ expiresInSeconds: -60 }),
      await stranger.sessionToken(),
      await issuer.m2mToken(),
      await issuer.oauthToken(),
      issuer.apiKey().token,
      issuer.opaqueM2mToken().token,
      'garbage',
    ];
    for (const input of inputs) await clerkAuth.authenticate(input, { acceptsToken: 'any' });
    const opaque = await clerkAuth.authenticate(issuer.apiKey().token, { acceptsToken: 'any' });
    expect(opaque.reason).toBe('secret-key-required');
    expect(api.requestCount).toBe(0);
  });
});
