/**
 * Opaque machine tokens through the store, counted at the Backend API stand-in: accepted tokens are
 * answered from the store for `acceptedTtlMs` (never past their expiration), rejections for
 * `rejectedTtlMs`; instances sharing a store share verifications (one call between them, even when
 * they miss at once); nothing in the store names a token; nothing written to the store can make a
 * token verify; a store that is down, slow or wrong means asking Clerk; a 429 is a 503 with
 * Clerk's `Retry-After`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { challengeOf, checkRequirement, ClerkAuthConfigError, createClerkAuth, createMemoryStore, type ClerkAuthOptions, type ClerkAuthStore } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { retryAfterSeconds } from '../../src/core/machine-verification.js';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const create = (options: ClerkAuthOptions = {}) => createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', ...options });
const garbage = () => `ak_garbage_${Math.random().toString(36).slice(2)}`;
const verifies = () => api.count('api_keys.verify');

/** A memory store that records every key and value written, and lets a test overwrite what it holds. */
function recordingStore() {
  const inner = createMemoryStore();
  const written = new Map<string, string>();
  const store: ClerkAuthStore = {
    get: (key) => inner.get(key),
    async set(key, value, ttlMs) {
      written.set(key, value);
      await inner.set(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      written.set(key, value);
      return inner.setIfAbsent(key, value, ttlMs);
    },
    deleteIfEquals: (key, value) => inner.deleteIfEquals(key, value),
  };
  /** The entry keys (not locks) written so far, in order. */
  const entries = () => [...written.keys()].filter((key) => key.startsWith('mt:') && !key.endsWith(':lock'));
  return { store, written, entries, overwrite: (key: string, value: string) => inner.set(key, value, 60_000) };
}

describe('accepted opaque tokens are answered from the store for acceptedTtlMs', () => {
  it('one Backend API call per TTL for a repeated key; the revocation trade-off: a revoked key works until the TTL runs out', async () => {
    const clerkAuth = create({ machineTokens: { acceptedTtlMs: 300 } });
    const key = issuer.apiKey({ subject: 'user_ttl', scopes: ['notes:read'] });
    for (let i = 0; i < 5; i++) {
      const { auth, reason } = await clerkAuth.authenticate(key.token);
      expect(reason).toBeNull();
      expect(auth.tokenType === 'api_key' && auth.isAuthenticated && auth.userId).toBe('user_ttl');
    }
    expect(verifies()).toBe(1);
    expect(clerkAuth.metrics()).toMatchObject({ backendApiCalls: 1, servedFromStore: 4, rejectedFromStore: 0 });

    api.revoke(key.token);
    expect((await clerkAuth.authenticate(key.token)).reason).toBeNull(); // within the TTL: still accepted
    expect(verifies()).toBe(1);
    await sleep(350);
    const revoked = await clerkAuth.authenticate(key.token);
    expect(revoked.reason).toBe('token-invalid');
    expect(revoked.auth.isAuthenticated).toBe(false);
    expect(verifies()).toBe(2);
    // The rejection is remembered in turn.
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(verifies()).toBe(2);
    expect(clerkAuth.metrics()).toMatchObject({ backendApiCalls: 2, servedFromStore: 5, rejectedFromStore: 1 });
  });

  it('never past the token’s expiration, whatever the TTL', async () => {
    const clerkAuth = create({ machineTokens: { acceptedTtlMs: 60_000 } });
    const key = issuer.apiKey({ subject: 'user_short', expiresInSeconds: 1 });
    const first = await clerkAuth.authenticate(key.token);
    expect(first.reason).toBeNull();
    expect(first.expiresAt).toBe(key.expiresAt);
    expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    expect(verifies()).toBe(1);
    await sleep(Math.max(0, (key.expiresAt ?? 0) - Date.now()) + 50);
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(verifies()).toBe(2);
  });

  it('acceptedTtlMs: 0 asks Clerk on every request, so revocation takes effect at once', async () => {
    const clerkAuth = create({ machineTokens: { acceptedTtlMs: 0 } });
    const key = issuer.apiKey({ subject: 'user_strict' });
    for (let i = 0; i < 3; i++) expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    expect(verifies()).toBe(3);
    api.revoke(key.token);
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
  });

  it('an entry written under a longer TTL is trusted only as long as this instance’s own TTL (plus 1 s of clock slack)', async () => {
    const { store } = recordingStore();
    const lenient = create({ store, machineTokens: { acceptedTtlMs: 60_000 } });
    const moderate = create({ store, machineTokens: { acceptedTtlMs: 200 } });
    const strict = create({ store, machineTokens: { acceptedTtlMs: 0 } });
    const key = issuer.apiKey({ subject: 'user_two_ttls' });
    expect((await lenient.authenticate(key.token)).reason).toBeNull();
    api.revoke(key.token);
    expect((await moderate.authenticate(key.token)).reason).toBeNull(); // verified just now: within its TTL
    expect(verifies()).toBe(1);
    await sleep(1300);
    expect((await lenient.authenticate(key.token)).reason).toBeNull(); // its own 60 s
    expect((await moderate.authenticate(key.token)).reason).toBe('token-invalid'); // verified 1.3 s ago: asks Clerk
    expect(verifies()).toBe(2);
    // Clerk's newer answer replaced the entry: every instance sharing the store sees the revocation now.
    expect((await lenient.authenticate(key.token)).reason).toBe('token-invalid');
    // acceptedTtlMs: 0 never answers an acceptance from the store.
    const other = issuer.apiKey({ subject: 'user_strict_other' });
    expect((await lenient.authenticate(other.token)).reason).toBeNull();
    expect((await strict.authenticate(other.token)).reason).toBeNull();
    expect(verifies()).toBe(4);
  });
});

describe('instances sharing a store share verifications', () => {
  it('a key verified by one instance is answered to the others from the store', async () => {
    const store = createMemoryStore();
    const [a, b, c] = [create({ store }), create({ store }), create({ store })];
    const key = issuer.apiKey({ subject: 'org_shared' });
    const bad = garbage();
    for (const instance of [a, b, c, a, b, c]) {
      expect((await instance.authenticate(key.token)).reason).toBeNull();
      expect((await instance.authenticate(bad)).reason).toBe('token-invalid');
    }
    expect(verifies()).toBe(2);
    expect(a.metrics()).toMatchObject({ backendApiCalls: 2, servedFromStore: 1, rejectedFromStore: 1 });
    expect(b.metrics()).toMatchObject({ backendApiCalls: 0, servedFromStore: 2, rejectedFromStore: 2 });
  });

  it('instances missing on one key at once make one call: the first takes the lock, the others wait for its answer', async () => {
    api.setFault({ mode: 'none', delayMs: 60, routes: ['api_keys.verify'] });
    const store = createMemoryStore();
    const instances = [create({ store }), create({ store }), create({ store })];
    const key = issuer.apiKey({ subject: 'user_stampede' });
    const results = await Promise.all(instances.flatMap((instance) => Array.from({ length: 10 }, () => instance.authenticate(key.token))));
    expect(results.map((r) => r.reason)).toEqual(Array(30).fill(null));
    expect(verifies()).toBe(1);
    const metrics = instances.map((instance) => instance.metrics());
    expect(metrics.reduce((sum, m) => sum + m.backendApiCalls, 0)).toBe(1);
    expect(metrics.reduce((sum, m) => sum + m.waitedForOtherInstance, 0)).toBe(2);
    expect(metrics.reduce((sum, m) => sum + m.joinedInFlight, 0)).toBe(27);
  });

  it('with sharedWaitMs: 0 no lock is taken, and each instance missing at once asks on its own', async () => {
    api.setFault({ mode: 'none', delayMs: 60, routes: ['api_keys.verify'] });
    const store = createMemoryStore();
    const instances = [create({ store, machineTokens: { sharedWaitMs: 0 } }), create({ store, machineTokens: { sharedWaitMs: 0 } })];
    const key = issuer.apiKey({ subject: 'user_nolock' });
    await Promise.all(instances.map((instance) => instance.authenticate(key.token)));
    expect(verifies()).toBe(2);
  });

  it('instances with another secret key or audience never share entries', async () => {
    const store = createMemoryStore();
    const key = issuer.apiKey({ subject: 'user_aud' });
    expect((await create({ store }).authenticate(key.token)).reason).toBeNull();
    expect((await create({ store, audience: 'https://api.example.com' }).authenticate(key.token)).reason).toBeNull();
    expect(verifies()).toBe(2);
  });
});

describe('nothing in the store names a token, and nothing written to it makes a token verify', () => {
  it('keys are keyed hashes and values sealed: no token, and no part of one, in the store', async () => {
    const { store, written } = recordingStore();
    const clerkAuth = create({ store });
    const key = issuer.apiKey({ subject: 'user_secretive' });
    const m2m = issuer.opaqueM2mToken({ machineId: 'mch_secretive' });
    const bad = garbage();
    await clerkAuth.authenticate(key.token);
    await clerkAuth.authenticate(m2m.token, { acceptsToken: 'm2m_token' });
    await clerkAuth.authenticate(bad);
    expect(written.size).toBeGreaterThanOrEqual(3);
    const everything = [...written].flat().join('\n');
    for (const token of [key.token, m2m.token, bad]) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(3, 15)); // no piece of the secret part either
    }
    expect(everything).not.toContain(issuer.secretKey);
  });

  it('an altered entry (a later `until`, another result) is ignored: a revoked key is asked of Clerk and refused', async () => {
    const { store, entries, written, overwrite } = recordingStore();
    const clerkAuth = create({ store });
    const key = issuer.apiKey({ subject: 'user_tamper' });
    expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    const [entryKey] = entries();
    const sealed = written.get(entryKey as string) as string;
    const [version, body, mac] = sealed.split('.');
    const payload = JSON.parse(Buffer.from(body as string, 'base64url').toString()) as { u: number; d: { subject: string } };
    payload.d.subject = 'org_attacker';
    overwrite(entryKey as string, `${version}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`);
    api.revoke(key.token);
    const after = await clerkAuth.authenticate(key.token);
    expect(after.reason).toBe('token-invalid');
    expect(verifies()).toBe(2);
    // Refused twice: on the read, and again on the re-read after taking the lock.
    expect(clerkAuth.metrics().storeFailures).toBe(2);
  });

  it('an accepted entry moved onto another token’s key is ignored', async () => {
    const { store, entries, written, overwrite } = recordingStore();
    const clerkAuth = create({ store });
    const good = issuer.apiKey({ subject: 'user_good' });
    const bad = garbage();
    await clerkAuth.authenticate(good.token);
    await clerkAuth.authenticate(bad);
    const [goodKey, badKey] = entries();
    overwrite(badKey as string, written.get(goodKey as string) as string);
    const result = await clerkAuth.authenticate(bad);
    expect(result.reason).toBe('token-invalid');
    expect(result.auth.isAuthenticated).toBe(false);
    expect(verifies()).toBe(3);
  });

  it('a replayed entry (recorded while the key was valid) is ignored once its sealed until has passed', async () => {
    const { store, entries, written, overwrite } = recordingStore();
    const clerkAuth = create({ store, machineTokens: { acceptedTtlMs: 100 } });
    const key = issuer.apiKey({ subject: 'user_replay' });
    await clerkAuth.authenticate(key.token);
    const [entryKey] = entries();
    const recorded = written.get(entryKey as string) as string;
    await sleep(150);
    api.revoke(key.token);
    overwrite(entryKey as string, recorded); // the store serves the old value again, with a fresh store TTL
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(verifies()).toBe(2);
  });

  it('a store answering garbage, and holding every lock, still gets every request Clerk’s answer', async () => {
    const liar: ClerkAuthStore = {
      get: async () => 'v1.eyJrIjoiYXBpX2tleSIsInUiOjk5OTk5OTk5OTk5OTksImQiOnt9fQ.AAAA',
      set: async () => {},
      setIfAbsent: async () => false,
      deleteIfEquals: async () => false,
    };
    const clerkAuth = create({ store: liar, machineTokens: { sharedWaitMs: 60 } });
    const key = issuer.apiKey({ subject: 'user_liar' });
    expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    expect((await clerkAuth.authenticate(garbage())).reason).toBe('token-invalid');
    api.revoke(key.token);
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(verifies()).toBe(3);
    expect(clerkAuth.metrics().storeFailures).toBeGreaterThan(0);
  });
});

describe('a store that is down or slow means asking Clerk, never accepting', () => {
  const down: ClerkAuthStore = {
    get: () => Promise.reject(new Error('ECONNREFUSED')),
    set: () => Promise.reject(new Error('ECONNREFUSED')),
    setIfAbsent: () => Promise.reject(new Error('ECONNREFUSED')),
    deleteIfEquals: () => Promise.reject(new Error('ECONNREFUSED')),
  };
  const hanging: ClerkAuthStore = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), setIfAbsent: () => new Promise(() => {}), deleteIfEquals: () => new Promise(() => {}) };

  for (const [name, store] of [['down', down], ['hanging', hanging]] as const) {
    it(`${name}: valid keys accepted, garbage and revoked keys refused, each asked of Clerk`, async () => {
      const clerkAuth = create({ store, machineTokens: { storeTimeoutMs: 30 } });
      const key = issuer.apiKey({ subject: `user_${name}` });
      expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
      expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
      expect((await clerkAuth.authenticate(garbage())).reason).toBe('token-invalid');
      api.revoke(key.token);
      expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
      expect(verifies()).toBe(4);
      expect(clerkAuth.metrics()).toMatchObject({ backendApiCalls: 4, servedFromStore: 0 });
      expect(clerkAuth.metrics().storeFailures).toBeGreaterThan(0);
    });
  }
});

describe('Backend API pressure', () => {
  it('a 429 is a 503 with Clerk’s Retry-After; meanwhile new tokens are refused without a call; stored answers still serve; nothing is stored', async () => {
    const clerkAuth = create();
    const known = issuer.apiKey({ subject: 'user_known' });
    expect((await clerkAuth.authenticate(known.token)).reason).toBeNull();
    api.resetCounts();
    api.setFault({ mode: 'rate-limited', retryAfterSeconds: 1, routes: ['api_keys.verify'] });
    const fresh = issuer.apiKey({ subject: 'user_fresh' });
    const limited = await clerkAuth.authenticate(fresh.token);
    expect(limited).toMatchObject({ reason: 'clerk-api-unavailable', retryAfterSeconds: 1 });
    const check = checkRequirement(limited, { token: 'api_key' });
    if (check.ok) throw new Error('expected a denial');
    expect([check.error.code, check.error.status]).toEqual(['CLERK_API_UNAVAILABLE', 503]);
    expect(challengeOf(check.error)).toEqual({ status: 503, headers: { 'Retry-After': '1' } });
    // Within the Retry-After: no call at all, still 503.
    const other = await clerkAuth.authenticate(issuer.apiKey({ subject: 'user_other' }).token);
    expect(other).toMatchObject({ reason: 'clerk-api-unavailable', retryAfterSeconds: 1 });
    expect((await clerkAuth.authenticate(known.token)).reason).toBeNull();
    expect(verifies()).toBe(1);
    expect(clerkAuth.metrics()).toMatchObject({ rateLimited: 1, refused: 1 });
    // Past it, the 429 was not remembered: the key verifies.
    api.setFault({ mode: 'none' });
    await sleep(1050);
    expect((await clerkAuth.authenticate(fresh.token)).reason).toBeNull();
    expect(verifies()).toBe(2);
  });

  it('Retry-After as seconds or an HTTP date, at least 1 and at most an hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('7', now)).toBe(7);
    expect(retryAfterSeconds(' 0 ', now)).toBe(1);
    expect(retryAfterSeconds('999999', now)).toBe(3600);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(1);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds('-5', now)).toBeUndefined();
    expect(retryAfterSeconds(null, now)).toBeUndefined();
  });
});

describe('store and machineTokens options are validated at creation', () => {
  it('refuses a store that is not one, rejectedMaxEntries with a store, and out-of-range new fields', () => {
    const cases: Array<[ClerkAuthOptions, RegExp]> = [
      [{ store: {} as ClerkAuthStore }, /`store` must be a store with get, set, setIfAbsent and deleteIfEquals.*missing get, set, setIfAbsent, deleteIfEquals/],
      [{ store: 'redis://localhost' as unknown as ClerkAuthStore }, /`store` must be a store/],
      [{ store: createMemoryStore(), machineTokens: { rejectedMaxEntries: 5 } }, /rejectedMaxEntries.*not used when `store` is given/],
      [{ machineTokens: { storeTimeoutMs: 0 } }, /machineTokens\.storeTimeoutMs.*positive/],
      [{ machineTokens: { acceptedTtlMs: -1 } }, /machineTokens\.acceptedTtlMs.*0: ask Clerk/],
      [{ machineTokens: { sharedWaitMs: Number.NaN } }, /machineTokens\.sharedWaitMs/],
      [{ machineTokens: { acceptedTTL: 5 } as never }, /"acceptedTTL" is not one of them/],
    ];
    for (const [options, message] of cases) {
      expect(() => create(options), message.source).toThrow(ClerkAuthConfigError);
      expect(() => create(options), message.source).toThrow(message);
    }
    expect(() => create({ store: createMemoryStore(), machineTokens: { acceptedTtlMs: 1.5, rejectedTtlMs: 0, storeTimeoutMs: 10, sharedWaitMs: 0 } })).not.toThrow();
  });
});
