/**
 * What an opaque machine token (`ak_…`, `mt_…`, `oat_…`) can cost: each is verified by one Backend
 * API call, so a repeated bad token is remembered briefly (one call per `rejectedTtlMs`), and calls
 * in flight per instance are capped, with a bounded queue whose overflow is `clerk-api-unavailable`
 * (503), never acceptance. Calls are counted at the stand-in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, checkRequirement, createClerkAuth, type ClerkAuthOptions } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { ConcurrencyLimiter } from '../../src/core/concurrency.js';

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

const remote = (machineTokens: ClerkAuthOptions['machineTokens'] = {}, extra: ClerkAuthOptions = {}) =>
  createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', machineTokens, ...extra });
const garbage = (i: number | string = 0) => `ak_garbage_${i}_${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, what: string, boundMs = 3000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('rejected opaque tokens are remembered briefly', () => {
  it('100 sequential requests with one garbage ak_ token cost one Backend API call per window', async () => {
    const clerkAuth = remote({ rejectedTtlMs: 200 });
    const token = garbage();
    for (let i = 0; i < 100; i++) {
      const result = await clerkAuth.authenticate(token);
      expect(result.reason).toBe('token-invalid');
      expect(result.auth.isAuthenticated).toBe(false);
      expect(result.auth.tokenType).toBe('api_key');
    }
    expect(api.count('api_keys.verify')).toBe(1);
    await sleep(300); // past the 200 ms TTL
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(2);
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(2);
  });

  it('a revoked token is remembered as rejected; with acceptedTtlMs: 0 accepted tokens are never remembered', async () => {
    const clerkAuth = remote({ acceptedTtlMs: 0 });
    const key = issuer.apiKey({ subject: 'user_1', scopes: ['notes:read'] });
    for (let i = 0; i < 3; i++) expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    expect(api.count('api_keys.verify')).toBe(3);
    issuer.revoke(key.token);
    for (let i = 0; i < 3; i++) expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(4);
  });

  it('the remembered rejection keeps answering any acceptsToken the way a fresh one would', async () => {
    const clerkAuth = remote();
    const token = garbage();
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    const any = await clerkAuth.authenticate(token, { acceptsToken: 'any' });
    expect(any.reason).toBe('token-invalid');
    expect(any.auth.tokenType).toBe('api_key'); // Clerk's signed-out object of the presented kind
    expect((await clerkAuth.authenticate(token, { acceptsToken: 'session_token' })).reason).toBe('token-type-mismatch');
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('an outage is not remembered: the next request asks again', async () => {
    const clerkAuth = remote();
    const token = garbage();
    api.setFault({ mode: 'error' });
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    api.setFault({ mode: 'down' });
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    api.setFault({ mode: 'malformed' });
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    api.setFault({ mode: 'none' });
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(4);
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(4);
  });

  it('a timeout is not remembered, and neither is a refused secret key', async () => {
    const clerkAuth = remote({}, { apiTimeoutMs: 150 });
    const token = garbage();
    api.setFault({ mode: 'none', delayMs: 60_000 });
    expect((await clerkAuth.authenticate(token)).reason).toBe('clerk-api-unavailable');
    api.setFault({ mode: 'none' });
    await until(() => api.openRequests === 0, 'the timed-out request to close');
    expect((await clerkAuth.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(2);

    const wrongKey = createClerkAuth({ env: {}, secretKey: 'sk_test_wrongwrongwrong', apiUrl: api.apiUrl, acceptsToken: 'api_key' });
    expect((await wrongKey.authenticate(token)).reason).toBe('secret-key-invalid');
    expect((await wrongKey.authenticate(token)).reason).toBe('secret-key-invalid');
    expect(api.count('api_keys.verify')).toBe(4);
  });

  it('rejectedTtlMs: 0 remembers nothing; rejectedMaxEntries bounds the memory, oldest forgotten first', async () => {
    const off = remote({ rejectedTtlMs: 0 });
    const token = garbage();
    for (let i = 0; i < 3; i++) expect((await off.authenticate(token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(3);

    api.resetCounts();
    const small = remote({ rejectedMaxEntries: 2 });
    const [a, b, c] = [garbage('a'), garbage('b'), garbage('c')];
    for (const t of [a, b, c]) await small.authenticate(t);
    expect(api.count('api_keys.verify')).toBe(3);
    await small.authenticate(c);
    await small.authenticate(b);
    expect(api.count('api_keys.verify')).toBe(3);
    await small.authenticate(a); // forgotten: asked again
    expect(api.count('api_keys.verify')).toBe(4);
  });
});

describe('concurrent Backend API verifications are capped per instance', () => {
  it('50 concurrent distinct garbage tokens with a cap of 5: never more than 5 in flight, and every request gets a definite answer', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 5, maxQueuedVerifications: 100 });
    api.setFault({ mode: 'none', delayMs: 40 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => clerkAuth.authenticate(garbage(i))));
    expect(results.map((r) => r.reason)).toEqual(Array(50).fill('token-invalid'));
    expect(api.count('api_keys.verify')).toBe(50);
    expect(api.maxConcurrency('api_keys.verify')).toBe(5);
  });

  it('without a cap (0) the same burst reaches the stand-in all at once (the cap is what bounds it)', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 0 });
    api.setFault({ mode: 'none', delayMs: 100 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => clerkAuth.authenticate(garbage(i))));
    expect(results.map((r) => r.reason)).toEqual(Array(50).fill('token-invalid'));
    expect(api.maxConcurrency('api_keys.verify')).toBeGreaterThan(5);
  });

  it('concurrent requests with the same token still share one call', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 1 });
    api.setFault({ mode: 'none', delayMs: 40 });
    const key = issuer.apiKey({ subject: 'user_shared' });
    const token = garbage();
    const results = await Promise.all([...Array.from({ length: 20 }, () => clerkAuth.authenticate(token)), ...Array.from({ length: 20 }, () => clerkAuth.authenticate(key.token))]);
    expect(results.slice(0, 20).map((r) => r.reason)).toEqual(Array(20).fill('token-invalid'));
    expect(results.slice(20).map((r) => r.reason)).toEqual(Array(20).fill(null));
    expect(api.count('api_keys.verify')).toBe(2);
  });

  it('a full queue is clerk-api-unavailable (503), never acceptance', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 1, maxQueuedVerifications: 1 });
    api.setFault({ mode: 'none', delayMs: 300 });
    const keys = Array.from({ length: 5 }, (_, i) => issuer.apiKey({ subject: `user_q${i}` }).token);
    const results = await Promise.all(keys.map((token) => clerkAuth.authenticate(token)));
    // One runs, one waits for it; the other three find the queue full (which ones is not specified
    // for requests arriving together).
    const reasons = results.map((r) => r.reason);
    expect(reasons.filter((reason) => reason === null)).toHaveLength(2);
    expect(reasons.filter((reason) => reason === 'clerk-api-unavailable')).toHaveLength(3);
    for (const result of results.filter((r) => r.reason !== null)) {
      expect(result.auth.isAuthenticated).toBe(false);
      const check = checkRequirement(result, { token: 'api_key' });
      expect(check.ok || [check.error.code, check.error.status]).toEqual(['CLERK_API_UNAVAILABLE', 503]);
    }
    expect(api.count('api_keys.verify')).toBe(2);
    expect(api.maxConcurrency('api_keys.verify')).toBe(1);
    // Refusals are not remembered: once the queue has room, the same token is verified.
    api.setFault({ mode: 'none' });
    const refused = keys.filter((_, i) => results[i]?.reason !== null);
    for (const token of refused) expect((await clerkAuth.authenticate(token)).reason).toBeNull();
  });

  it('a wait longer than apiTimeoutMs is clerk-api-unavailable, and nothing is left open', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 1, maxQueuedVerifications: 10 }, { apiTimeoutMs: 200 });
    api.setFault({ mode: 'none', delayMs: 60_000 });
    const keys = Array.from({ length: 4 }, (_, i) => issuer.apiKey({ subject: `user_w${i}` }).token);
    const results = await Promise.all(keys.map((token) => clerkAuth.authenticate(token)));
    expect(results.map((r) => r.reason)).toEqual(Array(4).fill('clerk-api-unavailable'));
    expect(api.maxConcurrency('api_keys.verify')).toBe(1);
    await until(() => api.openRequests === 0, 'every timed-out request to be aborted');
  });

  it('maxQueuedVerifications: 0 refuses at once whatever is over the cap', async () => {
    const clerkAuth = remote({ maxConcurrentVerifications: 2, maxQueuedVerifications: 0 });
    api.setFault({ mode: 'none', delayMs: 100 });
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => clerkAuth.authenticate(garbage(i))));
    expect(results.map((r) => r.reason).sort()).toEqual(['clerk-api-unavailable', 'clerk-api-unavailable', 'token-invalid', 'token-invalid']);
    expect(api.count('api_keys.verify')).toBe(2);
  });
});

describe('machineTokens options are validated at creation', () => {
  const create = (machineTokens: unknown) => () => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, machineTokens: machineTokens as ClerkAuthOptions['machineTokens'] });

  it('accepts every field, 0 included', () => {
    expect(create({ rejectedTtlMs: 0, rejectedMaxEntries: 0, maxConcurrentVerifications: 0, maxQueuedVerifications: 0 })).not.toThrow();
    expect(create({ rejectedTtlMs: 1.5, rejectedMaxEntries: 1, maxConcurrentVerifications: 100, maxQueuedVerifications: 5 })).not.toThrow();
    expect(create({})).not.toThrow();
  });

  it('refuses negative, non-finite, fractional counts, non-numbers, unknown keys and non-objects, naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rejectedTtlMs: -1 }, /machineTokens\.rejectedTtlMs/],
      [{ rejectedTtlMs: Number.POSITIVE_INFINITY }, /machineTokens\.rejectedTtlMs/],
      [{ rejectedTtlMs: '10' }, /machineTokens\.rejectedTtlMs/],
      [{ rejectedMaxEntries: 1.5 }, /machineTokens\.rejectedMaxEntries.*whole number/],
      [{ maxConcurrentVerifications: Number.NaN }, /machineTokens\.maxConcurrentVerifications/],
      [{ maxQueuedVerifications: -3 }, /machineTokens\.maxQueuedVerifications/],
      [{ maxConcurrency: 5 }, /"maxConcurrency" is not one of them/],
      [null, /machineTokens/],
      [5, /machineTokens/],
      [[], /machineTokens/],
    ];
    for (const [value, message] of cases) {
      expect(create(value), JSON.stringify(value)).toThrow(ClerkAuthConfigError);
      expect(create(value), JSON.stringify(value)).toThrow(message);
    }
  });
});

describe('ConcurrencyLimiter', () => {
  const deferred = () => {
    let resolve!: (value: string) => void;
    const promise = new Promise<string>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };

  it('runs at most maxConcurrent tasks, first come first served, and refuses past the queue', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 2, maxQueued: 2, maxWaitMs: 60_000 });
    const tasks = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = tasks.map((task, i) =>
      limiter.run(() => {
        started.push(i);
        return task.promise;
      }, 'refused'),
    );
    expect(started).toEqual([0, 1]);
    expect([limiter.active, limiter.waiting]).toEqual([2, 2]);
    expect(await runs[4]).toBe('refused');
    tasks[1]?.resolve('one');
    expect(await runs[1]).toBe('one');
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    tasks[0]?.resolve('zero');
    tasks[2]?.resolve('two');
    tasks[3]?.resolve('three');
    expect(await Promise.all(runs.slice(0, 4))).toEqual(['zero', 'one', 'two', 'three']);
    expect(started).toEqual([0, 1, 2, 3]);
    expect([limiter.active, limiter.waiting]).toEqual([0, 0]);
  });

  it('a task that fails frees its slot; a waiter past maxWaitMs is refused and never runs', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueued: 5, maxWaitMs: 20 });
    const blocker = deferred();
    const first = limiter.run(() => blocker.promise, 'refused');
    let ran = false;
    const late = limiter.run(async () => {
      ran = true;
      return 'ran';
    }, 'refused');
    expect(await late).toBe('refused');
    blocker.resolve('first');
    expect(await first).toBe('first');
    expect(ran).toBe(false);
    await expect(limiter.run(() => Promise.reject(new Error('boom')), 'refused')).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'after', 'refused')).toBe('after');
    expect(limiter.active).toBe(0);
  });

  it('maxConcurrent 0 is no cap', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 0, maxQueued: 0, maxWaitMs: 0 });
    const tasks = Array.from({ length: 20 }, deferred);
    const runs = tasks.map((task) => limiter.run(() => task.promise, 'refused'));
    expect(limiter.active).toBe(20);
    tasks.forEach((task, i) => task.resolve(String(i)));
    expect(await Promise.all(runs)).toEqual(tasks.map((_, i) => String(i)));
  });
});
