/**
 * `createRedisStore` against a real redis-server on loopback: the four store operations with Redis's
 * own expiry, a node-redis client given or one made from a URL, a ClerkAuth sharing verifications
 * through it (what is in Redis: keyed hashes and sealed values, no token), entries altered in Redis
 * ignored, and a Redis that goes away and comes back.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, createClerkAuth } from 'clerk-api-auth';
import { createRedisStore, type RedisStore } from 'clerk-api-auth/redis';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startRedisServer, type RedisServer } from './redis-server.js';

let owned: RedisServer | undefined;
let url: string;
let raw: ReturnType<typeof createClient>;
let issuer: TestIssuer;
let api: FakeClerkApi;
const stores: RedisStore[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean | Promise<boolean>, what: string, boundMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function store(options: Partial<Parameters<typeof createRedisStore>[0]> = {}): RedisStore {
  const made = createRedisStore({ url, prefix: `t${Math.random().toString(36).slice(2, 8)}:`, ...options } as Parameters<typeof createRedisStore>[0]);
  stores.push(made);
  return made;
}

beforeAll(async () => {
  if (process.env.REDIS_TEST_URL) url = process.env.REDIS_TEST_URL;
  else {
    owned = await startRedisServer();
    url = owned.url;
  }
  raw = createClient({ url });
  await raw.connect();
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
});
afterAll(async () => {
  for (const made of stores) await made.close();
  raw.destroy();
  await api?.close();
  await owned?.close();
});

describe('createRedisStore: the store operations on Redis', () => {
  it('get / set with a TTL in ms (Redis expires it), setIfAbsent (SET NX PX), deleteIfEquals (atomic, owner only)', async () => {
    const s = store({ prefix: 'ops:' });
    await until(() => s.ready, 'the client to connect');
    await s.set('a', 'one', 150);
    expect(await s.get('a')).toBe('one');
    expect(await raw.get('ops:a')).toBe('one');
    const pttl = await raw.pTTL('ops:a');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(150);
    await sleep(200);
    expect(await s.get('a')).toBeUndefined();

    expect(await s.setIfAbsent('lock', 'me', 10_000)).toBe(true);
    expect(await s.setIfAbsent('lock', 'you', 10_000)).toBe(false);
    expect(await s.deleteIfEquals('lock', 'you')).toBe(false);
    expect(await s.get('lock')).toBe('me');
    expect(await s.deleteIfEquals('lock', 'me')).toBe(true);
    expect(await raw.exists('ops:lock')).toBe(0);
    // A fractional or tiny TTL is still a valid PX.
    await s.set('tiny', 'x', 0.2);
    expect(await raw.exists('ops:tiny')).toBeLessThanOrEqual(1);
  });

  it('takes a node-redis client of yours (and leaves it open on close)', async () => {
    const client = await createClient({ url }).connect();
    const s = createRedisStore({ client, prefix: 'mine:' });
    await s.set('k', 'v', 10_000);
    expect(await raw.get('mine:k')).toBe('v');
    await s.close();
    expect(client.isReady).toBe(true);
    client.destroy();
  });

  it('refuses bad options at creation, never echoing the URL', () => {
    expect(() => createRedisStore({ url: 'http://user:hunter2@example.com' })).toThrow(ClerkAuthConfigError);
    try {
      createRedisStore({ url: 'http://user:hunter2@example.com' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect(() => createRedisStore({ client: {} as never })).toThrow(/node-redis client/);
    expect(() => createRedisStore({ url, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
  });
});

describe('ClerkAuth on the Redis store', () => {
  it('two instances share verifications through Redis, and Redis holds no token', async () => {
    const s1 = store({ prefix: 'share:' });
    const s2 = store({ prefix: 'share:' });
    await until(() => s1.ready && s2.ready, 'both clients to connect');
    const a = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', store: s1 });
    const b = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', store: s2 });
    const key = issuer.apiKey({ subject: 'user_redis' });
    const bad = `ak_bad_${Math.random().toString(36).slice(2)}`;
    api.resetCounts();
    expect((await a.authenticate(key.token)).reason).toBeNull();
    expect((await b.authenticate(key.token)).reason).toBeNull();
    expect((await a.authenticate(bad)).reason).toBe('token-invalid');
    expect((await b.authenticate(bad)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(2);
    expect(b.metrics()).toMatchObject({ backendApiCalls: 0, servedFromStore: 1, rejectedFromStore: 1 });

    const keys = await raw.keys('share:*');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    const values = await Promise.all(keys.map((k) => raw.get(k)));
    const everything = [...keys, ...values].join('\n');
    for (const token of [key.token, bad]) expect(everything).not.toContain(token.slice(3));
    expect(everything).not.toContain(issuer.secretKey);
    // Entries expire in Redis on their own, within the accepted / rejected TTL (10 s by default).
    for (const k of keys.filter((name) => !name.endsWith(':lock'))) {
      const pttl = await raw.pTTL(k);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(10_000);
    }
  });

  it('an entry altered in Redis is ignored: the revoked key is asked of Clerk and refused', async () => {
    const s = store({ prefix: 'tamper:' });
    await until(() => s.ready, 'the client to connect');
    const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', store: s });
    const key = issuer.apiKey({ subject: 'user_tampered' });
    expect((await clerkAuth.authenticate(key.token)).reason).toBeNull();
    const [entry] = (await raw.keys('tamper:mt:*')).filter((name) => !name.endsWith(':lock'));
    const sealed = (await raw.get(entry as string)) as string;
    const [version, body, mac] = sealed.split('.');
    const payload = JSON.parse(Buffer.from(body as string, 'base64url').toString()) as { u: number };
    payload.u += 3_600_000;
    await raw.set(entry as string, `${version}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`, { expiration: { type: 'PX', value: 60_000 } });
    api.revoke(key.token);
    api.resetCounts();
    expect((await clerkAuth.authenticate(key.token)).reason).toBe('token-invalid');
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('Redis gone: every call fails at once and Clerk is asked (nothing accepted that should not be); Redis back: sharing resumes', async () => {
    const own = await startRedisServer();
    try {
      const s1 = createRedisStore({ url: own.url, onError: () => {} });
      const s2 = createRedisStore({ url: own.url, onError: () => {} });
      stores.push(s1, s2);
      await until(() => s1.ready && s2.ready, 'both clients to connect');
      const make = (s: RedisStore) => createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, acceptsToken: 'api_key', store: s });
      const [a, b] = [make(s1), make(s2)];
      const key = issuer.apiKey({ subject: 'user_outage' });
      const revoked = issuer.apiKey({ subject: 'user_revoked' });
      expect((await a.authenticate(revoked.token)).reason).toBeNull(); // accepted and stored for 10 s...
      await own.stop();
      await until(() => !s1.ready && !s2.ready, 'both clients to notice');
      api.revoke(revoked.token);
      api.resetCounts();
      expect((await a.authenticate(key.token)).reason).toBeNull();
      expect((await b.authenticate(key.token)).reason).toBeNull();
      expect((await b.authenticate(revoked.token)).reason).toBe('token-invalid'); // ...but Redis is gone: Clerk is asked
      expect(api.count('api_keys.verify')).toBe(3);
      expect(b.metrics().storeFailures).toBeGreaterThan(0);

      await own.start();
      await until(() => s1.ready && s2.ready, 'both clients to reconnect');
      await sleep(1100); // past the store back-off after the failures
      api.resetCounts();
      const fresh = issuer.apiKey({ subject: 'user_after' });
      expect((await a.authenticate(fresh.token)).reason).toBeNull();
      expect((await b.authenticate(fresh.token)).reason).toBeNull();
      expect(api.count('api_keys.verify')).toBe(1);
    } finally {
      await own.close();
    }
  });
});
