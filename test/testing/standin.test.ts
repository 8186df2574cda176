/**
 * The stand-in's own instruments, which the core's timeout and concurrency tests rely on: it sees a
 * request the client aborted, knows how many requests are still open and how many were open at
 * once, and records the last request of each route. And the issuer signs RS384/RS512 with its key.
 */
import { createPublicKey, createVerify } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
});
afterEach(() => {
  api.setFault({ mode: 'none' });
  api.resetCounts();
});
afterAll(() => api.close());

const jwks = (signal?: AbortSignal) => fetch(`${api.apiUrl}/v1/jwks`, { headers: { authorization: `Bearer ${issuer.secretKey}` }, ...(signal && { signal }) });

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; !predicate(); i++) {
    if (i > 500) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('startFakeClerkApi instruments', () => {
  it('counts a delayed request the client aborted, and leaves no request open', async () => {
    api.setFault({ mode: 'none', delayMs: 5000 });
    const controller = new AbortController();
    const pending = jwks(controller.signal);
    await until(() => api.openRequests === 1, 'the request to arrive');
    expect(api.count('jwks')).toBe(1);
    expect(api.abortedCount()).toBe(0);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await until(() => api.openRequests === 0, 'the stand-in to see the close');
    expect(api.abortedCount('jwks')).toBe(1);
    expect(api.abortedCount()).toBe(1);
  });

  it('does not count an answered request, nor one the stand-in itself cut (mode down), as aborted', async () => {
    expect((await jwks()).status).toBe(200);
    api.setFault({ mode: 'down' });
    await expect(jwks()).rejects.toThrow();
    await until(() => api.openRequests === 0, 'no open request');
    expect(api.count('jwks')).toBe(2);
    expect(api.abortedCount()).toBe(0);
  });

  it('records the most requests open at once, per route and in total', async () => {
    api.setFault({ mode: 'none', delayMs: 100 });
    await Promise.all(Array.from({ length: 4 }, () => jwks()));
    await Promise.all([jwks(), fetch(`${api.apiUrl}/v1/users/user_x`, { headers: { authorization: `Bearer ${issuer.secretKey}` } })]);
    expect(api.maxConcurrency('jwks')).toBe(4);
    expect(api.maxConcurrency('users.get')).toBe(1);
    expect(api.maxConcurrency()).toBe(4);
    api.resetCounts();
    expect(api.maxConcurrency()).toBe(0);
  });

  it('records the last request of a route without its authorization header', async () => {
    await fetch(`${api.apiUrl}/api_keys/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issuer.secretKey}`, 'content-type': 'application/json', 'x-probe': '1' },
      body: JSON.stringify({ secret: 'ak_probe' }),
    });
    const seen = api.lastRequest('api_keys.verify');
    expect(seen).toMatchObject({ method: 'POST', path: '/api_keys/verify', body: { secret: 'ak_probe' }, authorized: true });
    expect(seen?.headers['x-probe']).toBe('1');
    expect(seen?.headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(seen)).not.toContain(issuer.secretKey);
  });
});

describe('TestIssuer.sign', () => {
  it('signs RS384 and RS512 headers with the same RSA key, and honours an explicit signature algorithm', async () => {
    const publicKey = createPublicKey(issuer.jwtKey);
    const verifies = (token: string, hash: string) => {
      const [h, p, s] = token.split('.') as [string, string, string];
      return createVerify(hash).update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
    };
    const payload = { sub: 'user_1' };
    for (const [alg, hash] of [['RS256', 'RSA-SHA256'], ['RS384', 'RSA-SHA384'], ['RS512', 'RSA-SHA512']] as const) {
      const token = await issuer.sign(payload, { alg, typ: 'JWT', kid: issuer.kid });
      expect(verifies(token, hash), alg).toBe(true);
      expect(verifies(token, 'RSA-SHA256'), alg).toBe(alg === 'RS256');
    }
    const mismatched = await issuer.sign(payload, { alg: 'RS512', typ: 'JWT', kid: issuer.kid }, { alg: 'RS256' });
    expect(verifies(mismatched, 'RSA-SHA256')).toBe(true);
    expect(verifies(mismatched, 'RSA-SHA512')).toBe(false);
  });
});
