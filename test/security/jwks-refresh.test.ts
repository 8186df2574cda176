/**
 * The JWKS refresh that follows the keys' time-to-live must not make requests wait on a slow or hung
 * Backend API while the key they need is already known: the known key answers at once and the
 * refresh runs in the background (stale-while-revalidate). Only a kid the resolver has never seen
 * waits for a fetch. The resolver's TTL is not an option of `createClerkAuth` (5 minutes), so this
 * drives the internal resolver with a short one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { remoteKeyResolver, type KeyLookup } from '../../src/core/jwks.js';
import { until } from './helpers.js';

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
afterAll(() => api?.close());

const resolver = () => remoteKeyResolver({ apiUrl: api.apiUrl, apiVersion: 'v1', secretKey: issuer.secretKey, timeoutMs: 3000, ttlMs: 100, failureCooldownMs: 100 });

/** The lookup if it settles within `boundMs`, else `'still waiting'` (a bound on the wait, not a timing assertion). */
async function within(lookup: Promise<KeyLookup> | KeyLookup, boundMs: number): Promise<KeyLookup | 'still waiting'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), boundMs);
  });
  try {
    return await Promise.race([Promise.resolve(lookup), bound]);
  } finally {
    clearTimeout(timer);
  }
}

describe('JWKS refresh after the TTL', () => {
  it('a known kid answers from the cached keys while the refresh waits on a hung API', async () => {
    const keys = resolver();
    expect(await keys.resolve(issuer.kid)).toHaveProperty('key');
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the TTL
    api.setFault({ mode: 'none', delayMs: 2500 });
    const lookups = await Promise.all(Array.from({ length: 10 }, () => within(keys.resolve(issuer.kid), 1000)));
    for (const lookup of lookups) expect(lookup).toHaveProperty('key');
    // The refresh did start, once, in the background.
    await until(() => api.requestCount >= 2, 5000, 'the background refresh to reach the API');
    expect(api.requestCount).toBe(2);
  });

  it('the refreshed keys replace the cached ones once the API answers', async () => {
    const keys = resolver();
    expect(await keys.resolve(issuer.kid)).toHaveProperty('key');
    await new Promise((resolve) => setTimeout(resolve, 150));
    api.setFault({ mode: 'none', delayMs: 200 });
    expect(await within(keys.resolve(issuer.kid), 1000)).toHaveProperty('key');
    await until(() => api.count('jwks') === 2, 5000, 'the background refresh');
    api.setFault({ mode: 'none' });
    expect(await keys.resolve(issuer.kid)).toHaveProperty('key');
    expect(await keys.resolve('ins_unknown')).toEqual({ failure: 'jwk-kid-mismatch' });
  });

  it('a failing refresh keeps serving the cached keys, and is retried at most once per failure cooldown', async () => {
    const keys = resolver();
    expect(await keys.resolve(issuer.kid)).toHaveProperty('key');
    await new Promise((resolve) => setTimeout(resolve, 150));
    api.setFault({ mode: 'error' });
    for (let i = 0; i < 20; i++) expect(await within(keys.resolve(issuer.kid), 1000)).toHaveProperty('key');
    expect(api.requestCount).toBeLessThanOrEqual(3);
  });
});
