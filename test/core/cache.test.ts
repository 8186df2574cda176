import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { authenticateSettled, type ClerkAuth } from '../../src/core/create-clerk-auth.js';
import type { AuthenticateInput, AuthenticateOptions, AuthenticateResult } from '../../src/core/types.js';
import { VerifiedTokenCache } from '../../src/core/token-cache.js';
import { startOfSecond } from '../support/clock.js';

/** What `authenticateSettled` answers without a promise; `undefined` when it had to return one. */
function authenticateNow(clerkAuth: ClerkAuth, input: AuthenticateInput, options?: AuthenticateOptions): AuthenticateResult | undefined {
  const settled = authenticateSettled(clerkAuth, input, options);
  return settled instanceof Promise ? undefined : settled;
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

describe('the verified-token cache', () => {
  it('a hit returns the same auth as the miss built, frozen so requests cannot tamper with each other', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const token = await issuer.sessionToken({ userId: 'user_c', org: { id: 'org_1', role: 'admin' } });
    const miss = await clerkAuth.authenticate(token);
    const hit = await clerkAuth.authenticate(`Bearer ${token}`);
    expect(hit).toBe(miss);
    expect(Object.isFrozen(hit.auth)).toBe(true);
    if (hit.auth.tokenType !== 'session_token' || !hit.auth.isAuthenticated) throw new Error('expected signed in');
    expect(Object.isFrozen(hit.auth.sessionClaims)).toBe(true);
    expect(() => {
      (hit.auth as { userId: string }).userId = 'user_evil';
    }).toThrow(TypeError);
  });

  it('only the exact token hits: a one-character change is verified (and refused)', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const token = await issuer.sessionToken();
    expect((await clerkAuth.authenticate(token)).reason).toBeNull();
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const altered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect((await clerkAuth.authenticate(altered)).reason).toBe('token-invalid-signature');
  });

  it('a forged token that keeps a cached token’s signature (so its cache key) is verified, refused, and evicts nothing', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const token = await issuer.sessionToken({ userId: 'user_real' });
    const real = await clerkAuth.authenticate(token);
    expect(real.reason).toBeNull();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'user_evil' })).toString('base64url')}.${signature}`;
    expect(forged.slice(-43)).toBe(token.slice(-43));
    const result = await clerkAuth.authenticate(forged);
    expect(result.reason).toBe('token-invalid-signature');
    expect(result.auth.isAuthenticated).toBe(false);
    // The real token still hits its entry: the very same frozen result.
    expect(await clerkAuth.authenticate(token)).toBe(real);
  });

  it('an entry never outlives the token’s exp plus the clock skew', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
    await startOfSecond();
    const token = await issuer.sessionToken({ expiresInSeconds: 1 });
    expect((await clerkAuth.authenticate(token)).reason).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-expired');
  });

  it('a hit still honours the call’s acceptsToken', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const m2m = await issuer.m2mToken({ machineId: 'mch_a' });
    expect((await clerkAuth.authenticate(m2m, { acceptsToken: 'any' })).reason).toBeNull();
    expect((await clerkAuth.authenticate(m2m)).reason).toBe('token-type-mismatch');
    expect((await clerkAuth.authenticate(m2m, { acceptsToken: 'm2m_token' })).reason).toBeNull();
  });

  it('failures are not cached: a token refused while the API was down is accepted once it recovers', async () => {
    const api = await startFakeClerkApi({ issuer });
    try {
      const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 300 });
      const token = await issuer.sessionToken();
      api.setFault({ mode: 'error' });
      expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
      api.setFault({ mode: 'none' });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await clerkAuth.authenticate(token)).reason).toBeNull();
    } finally {
      await api.close();
    }
  });

  it('cache: false verifies every time (a fresh auth object per request)', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, cache: false });
    const token = await issuer.sessionToken();
    const first = await clerkAuth.authenticate(token);
    const second = await clerkAuth.authenticate(token);
    expect(second).not.toBe(first);
    expect(second.auth.tokenType === 'session_token' && second.auth.userId).toBe('user_test');
  });
});

describe('VerifiedTokenCache bounds', () => {
  const result = { auth: {} as never, reason: null };
  const far = Date.now() + 60_000;

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 3 });
    for (const token of ['a', 'b', 'c']) cache.set(token, result, 'session_token', far);
    expect(cache.get('a', Date.now())).toBeDefined(); // a is now most recent
    cache.set('d', result, 'session_token', far);
    expect(cache.size).toBe(3);
    expect(cache.get('b', Date.now())).toBeUndefined();
    expect(cache.get('a', Date.now())).toBeDefined();
    expect(cache.get('d', Date.now())).toBeDefined();
  });

  it('keeps at most maxBytes', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 100; i++) cache.set(`${'x'.repeat(1000)}${i}`, result, 'session_token', far);
    expect(cache.size).toBeLessThanOrEqual(2);
    expect(cache.size).toBeGreaterThan(0);
  });

  it('refuses entries without a finite expiry, and expires entries on read', () => {
    const cache = new VerifiedTokenCache();
    cache.set('nan', result, 'session_token', Number.NaN);
    expect(cache.size).toBe(0);
    cache.set('soon', result, 'session_token', Date.now() + 10);
    expect(cache.get('soon', Date.now() + 20)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('expiresAt', () => {
  it('is the token’s exp plus the clock skew for JWTs, the expiration for opaque tokens, absent when signed out', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 2000 });
    const token = await issuer.sessionToken({ expiresInSeconds: 60 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
    expect((await clerkAuth.authenticate(token)).expiresAt).toBe(exp * 1000 + 2000);
    expect((await clerkAuth.authenticate(token)).expiresAt).toBe(exp * 1000 + 2000); // cache hit
    expect((await clerkAuth.authenticate(null)).expiresAt).toBeUndefined();
    const api = await startFakeClerkApi({ issuer });
    try {
      const remote = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
      const key = issuer.apiKey({ expiresInSeconds: 120 });
      const result = await remote.authenticate(key.token, { acceptsToken: 'api_key' });
      expect(result.reason).toBeNull();
      expect(result.expiresAt).toBe(key.expiresAt);
      expect((await remote.authenticate(issuer.apiKey().token, { acceptsToken: 'api_key' })).expiresAt).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});

describe('authenticateSettled (the integrations’ synchronous hot path)', () => {
  it('answers without a promise exactly what authenticate resolves to, whenever nothing asynchronous is needed', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const token = await issuer.sessionToken({ userId: 'user_now' });
    // A signature to check is asynchronous (node:crypto on the thread pool, WebCrypto elsewhere).
    const pending = authenticateSettled(clerkAuth, `Bearer ${token}`);
    expect(pending).toBeInstanceOf(Promise);
    const first = await pending;
    expect(first.reason).toBeNull();
    expect(first.auth.tokenType === 'session_token' && first.auth.userId).toBe('user_now');
    // Then the cache answers at once with the very same frozen result, through authenticate as well.
    expect(authenticateNow(clerkAuth, token)).toBe(first);
    expect(await clerkAuth.authenticate(token)).toBe(first);
    const now = authenticateNow(clerkAuth, new Request('http://api.test/', { headers: { authorization: `Bearer ${token}` } }));
    expect(now).toBe(first);
    // No credential or a malformed one settles at once, with the same reason authenticate gives.
    const missing = authenticateNow(clerkAuth, null);
    expect(missing?.reason).toBe('token-missing');
    expect(missing?.auth.isAuthenticated).toBe(false);
    expect((await clerkAuth.authenticate(null)).reason).toBe('token-missing');
    const malformed = new Request('http://api.test/', { headers: { authorization: 'Basic abc' } });
    expect(authenticateNow(clerkAuth, malformed)?.reason).toBe('malformed-authorization-header');
    expect((await clerkAuth.authenticate(malformed)).reason).toBe('malformed-authorization-header');
  });

  it('returns a promise when an answer needs the network: an opaque token, or a key not fetched yet', async () => {
    // Port 9 on loopback refuses at once: the answers are "unavailable", but they had to be asked for.
    const remote = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: 'http://127.0.0.1:9' });
    const opaque = authenticateSettled(remote, 'ak_settled_test_token', { acceptsToken: 'any' });
    expect(opaque).toBeInstanceOf(Promise);
    expect((await opaque).reason).toBe('clerk-api-unavailable');
    const jwt = authenticateSettled(remote, await issuer.sessionToken());
    expect(jwt).toBeInstanceOf(Promise);
    expect((await jwt).reason).toBe('clerk-api-unavailable');
  });

  it('honours acceptsToken and the entry’s expiry; without a cache every call verifies again; a foreign ClerkAuth is asked through its authenticate', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
    const m2m = await issuer.m2mToken({ machineId: 'mch_now' });
    const accepted = await clerkAuth.authenticate(m2m, { acceptsToken: 'any' });
    expect(authenticateNow(clerkAuth, m2m, { acceptsToken: 'any' })).toBe(accepted);
    expect(authenticateNow(clerkAuth, m2m)?.reason).toBe('token-type-mismatch');

    await startOfSecond();
    const shortLived = await issuer.sessionToken({ expiresInSeconds: 1 });
    const fresh = await clerkAuth.authenticate(shortLived);
    expect(fresh.reason).toBeNull();
    expect(authenticateNow(clerkAuth, shortLived)).toBe(fresh);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The entry is gone with the token's life: verified anew (so not at once), and refused.
    expect(authenticateNow(clerkAuth, shortLived)).toBeUndefined();
    expect((await clerkAuth.authenticate(shortLived)).reason).toBe('token-expired');

    const uncached = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, cache: false });
    const token = await issuer.sessionToken();
    const once = await uncached.authenticate(token);
    expect(once.reason).toBeNull();
    // No cache: every call verifies again, so nothing is answered at once and no two answers are the same object.
    expect(authenticateNow(uncached, token)).toBeUndefined();
    const again = await uncached.authenticate(token);
    expect(again.reason).toBeNull();
    expect(again).not.toBe(once);
    const foreign = { ...clerkAuth };
    expect(authenticateNow(foreign, null)).toBeUndefined();
    expect((await authenticateSettled(foreign, null)).reason).toBe('token-missing'); // asked through its authenticate
  });
});
