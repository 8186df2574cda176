/**
 * `apiTimeoutMs` cancels: when a verification call to the Backend API times out, the caller gets
 * `clerk-api-unavailable` (503) and the request is aborted — the stand-in sees its connection closed
 * by the client and has no request left open. Covered: opaque machine tokens (all three kinds) and
 * the JWKS. `ctx.clerk` calls are bounded for the caller, but `@clerk/backend` gives no way to abort
 * its own request (no custom fetch, no signal): the last test pins that limitation down.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkRequirement, createClerkAuth, type AcceptsToken } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;
/** Far longer than any bound below: a request the client does not abort stays open. */
const HANG = { mode: 'none', delayMs: 60_000 } as const;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_1', email: 'ada@example.com' }] });
});
afterEach(() => {
  api.setFault({ mode: 'none' });
  api.resetCounts();
});
afterAll(() => api.close());

/** Resolves once `predicate()` holds; fails after `boundMs` (a bound on the wait, not a timing assertion). */
async function until(predicate: () => boolean, what: string, boundMs = 3000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what} (open: ${api.openRequests}, aborted: ${api.abortedCount()})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const remote = () => createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 200 });

describe('a timed-out verification is aborted, and the caller gets clerk-api-unavailable', () => {
  const opaque: Array<[string, () => string, AcceptsToken, string]> = [
    ['API key', () => issuer.apiKey({ subject: 'user_1' }).token, 'api_key', 'api_keys.verify'],
    ['opaque M2M token', () => issuer.opaqueM2mToken({ machineId: 'mch_1' }).token, 'm2m_token', 'm2m_tokens.verify'],
    ['opaque OAuth token', () => 'oat_garbage_but_well_formed', 'oauth_token', 'oauth.verify'],
  ];
  for (const [name, token, acceptsToken, route] of opaque) {
    it(`${name}: the stand-in sees the request aborted and none left open`, async () => {
      const clerkAuth = remote();
      api.setFault(HANG);
      const result = await clerkAuth.authenticate(token(), { acceptsToken });
      expect(result.reason).toBe('clerk-api-unavailable');
      expect(result.auth.isAuthenticated).toBe(false);
      const check = checkRequirement(result, { token: acceptsToken });
      expect(check.ok || [check.error.code, check.error.status]).toEqual(['CLERK_API_UNAVAILABLE', 503]);
      expect(api.count(route)).toBe(1);
      await until(() => api.abortedCount(route) === 1 && api.openRequests === 0, 'the stand-in to see the request aborted');
      expect(api.abortedCount()).toBe(1);
    });
  }

  it('JWKS: the stand-in sees the key fetch aborted and none left open', async () => {
    const clerkAuth = remote();
    api.setFault(HANG);
    const result = await clerkAuth.authenticate(await issuer.sessionToken());
    expect(result.reason).toBe('clerk-api-unavailable');
    const check = checkRequirement(result);
    expect(check.ok || [check.error.code, check.error.status]).toEqual(['CLERK_API_UNAVAILABLE', 503]);
    expect(api.count('jwks')).toBe(1);
    await until(() => api.abortedCount('jwks') === 1 && api.openRequests === 0, 'the stand-in to see the JWKS fetch aborted');
  });

  it('a healthy API still answers within the bound, and nothing is aborted', async () => {
    const clerkAuth = remote();
    api.setFault({ mode: 'none', delayMs: 20 });
    expect((await clerkAuth.authenticate(await issuer.sessionToken())).reason).toBeNull();
    expect((await clerkAuth.authenticate(issuer.apiKey({ subject: 'user_1' }).token, { acceptsToken: 'api_key' })).reason).toBeNull();
    expect(api.abortedCount()).toBe(0);
    expect(api.openRequests).toBe(0);
  });
});

describe('ctx.clerk calls', () => {
  it('a timed-out getUser rejects with ClerkApiUnavailableError (503); @clerk/backend cannot abort its request, which stays open until the API answers', async () => {
    const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 200 });
    api.setFault({ mode: 'none', delayMs: 1500 });
    const error = await clerkAuth.clerk.users.getUser('user_1').then(
      () => undefined,
      (rejection: unknown) => rejection as { code?: string; status?: number; name?: string },
    );
    expect(error?.code).toBe('CLERK_API_UNAVAILABLE');
    expect(error?.status).toBe(503);
    // The limitation: the SDK's request (runtime.fetch, no signal) is still open at the stand-in,
    // and is not aborted; it closes only when the API answers.
    expect(api.count('users.get')).toBe(1);
    expect(api.openRequests).toBe(1);
    await until(() => api.openRequests === 0, 'the stand-in to answer the SDK request');
    expect(api.abortedCount()).toBe(0);
  });
});
