/**
 * The store's building blocks, in process: the in-memory store (TTL, bound, set-if-absent,
 * compare-and-delete), the bounded store call, the seal (keyed names, values nobody else can forge,
 * alter, move or extend), and the run-once protocol webhooks are deduplicated with.
 */
import { describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, createMemoryStore, type ClerkAuthStore } from 'clerk-api-auth';
import { runOnce } from '../../src/core/idempotency.js';
import { STORE_FAILED, storeCall } from '../../src/core/store-call.js';
import { StoreSeal } from '../../src/core/store-seal.js';
import { validateStore } from '../../src/core/store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createMemoryStore', () => {
  it('get / set with a TTL: a value is read back until its TTL, then never', async () => {
    const store = createMemoryStore();
    await store.set('a', 'one', 40);
    expect(await store.get('a')).toBe('one');
    expect(await store.get('missing')).toBeUndefined();
    await store.set('a', 'two', 40);
    expect(await store.get('a')).toBe('two');
    await sleep(60);
    expect(await store.get('a')).toBeUndefined();
  });

  it('setIfAbsent stores only where no live value is, and an expired value counts as absent', async () => {
    const store = createMemoryStore();
    expect(await store.setIfAbsent('lock', 'me', 40)).toBe(true);
    expect(await store.setIfAbsent('lock', 'you', 40)).toBe(false);
    expect(await store.get('lock')).toBe('me');
    await sleep(60);
    expect(await store.setIfAbsent('lock', 'you', 1000)).toBe(true);
    expect(await store.get('lock')).toBe('you');
  });

  it('deleteIfEquals deletes only the holder’s value', async () => {
    const store = createMemoryStore();
    await store.set('lock', 'owner-1', 1000);
    expect(await store.deleteIfEquals('lock', 'owner-2')).toBe(false);
    expect(await store.get('lock')).toBe('owner-1');
    expect(await store.deleteIfEquals('lock', 'owner-1')).toBe(true);
    expect(await store.get('lock')).toBeUndefined();
    expect(await store.deleteIfEquals('lock', 'owner-1')).toBe(false);
  });

  it('is bounded by maxEntries, oldest first out; 0 keeps nothing; a bad bound is refused at creation', async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    await store.set('a', '1', 10_000);
    await store.set('b', '2', 10_000);
    await store.set('c', '3', 10_000);
    expect([await store.get('a'), await store.get('b'), await store.get('c')]).toEqual([undefined, '2', '3']);
    // Replacing a key moves it to the back.
    await store.set('b', '2b', 10_000);
    await store.set('d', '4', 10_000);
    expect([await store.get('b'), await store.get('c'), await store.get('d')]).toEqual(['2b', undefined, '4']);

    const none = createMemoryStore({ maxEntries: 0 });
    await none.set('a', '1', 10_000);
    expect(await none.get('a')).toBeUndefined();
    expect(await none.setIfAbsent('a', '1', 10_000)).toBe(false);

    for (const maxEntries of [-1, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => createMemoryStore({ maxEntries }), String(maxEntries)).toThrow(ClerkAuthConfigError);
    }
  });

  it('a zero or negative TTL stores nothing', async () => {
    const store = createMemoryStore();
    await store.set('a', '1', 0);
    await store.set('b', '1', -5);
    expect([await store.get('a'), await store.get('b')]).toEqual([undefined, undefined]);
  });
});

describe('validateStore', () => {
  it('accepts anything with the four methods and refuses the rest, naming what is missing', () => {
    const store = createMemoryStore();
    expect(validateStore(store, 'store')).toBe(store);
    expect(() => validateStore({ get: async () => undefined, set: async () => {} }, 'store')).toThrow(/missing setIfAbsent, deleteIfEquals/);
    expect(() => validateStore(null, 'store')).toThrow(/got null/);
    expect(() => validateStore('redis://x', 'store')).toThrow(/got string/);
  });
});

describe('storeCall', () => {
  it('settles to the value, or STORE_FAILED when the call throws, rejects or takes longer than the bound', async () => {
    expect(await storeCall(async () => 'value', 100)).toBe('value');
    expect(await storeCall(async () => undefined, 100)).toBeUndefined();
    expect(await storeCall(() => Promise.reject(new Error('down')), 100)).toBe(STORE_FAILED);
    expect(
      await storeCall(() => {
        throw new Error('sync throw');
      }, 100),
    ).toBe(STORE_FAILED);
    let settled = false;
    const never = storeCall(() => new Promise<string>(() => {}), 30).then((value) => {
      settled = true;
      return value;
    });
    expect(settled).toBe(false);
    expect(await never).toBe(STORE_FAILED);
  });
});

describe('StoreSeal', () => {
  it('names a subject by a keyed hash: stable, never the subject, different under another secret or purpose', async () => {
    const seal = await StoreSeal.derive('sk_test_secret', 'machine-tokens');
    const name = await seal.name('ak_the_token');
    expect(name).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(name).not.toContain('ak_');
    expect(await seal.name('ak_the_token')).toBe(name);
    expect(await seal.name('ak_the_token2')).not.toBe(name);
    expect(await (await StoreSeal.derive('sk_test_other', 'machine-tokens')).name('ak_the_token')).not.toBe(name);
    expect(await (await StoreSeal.derive('sk_test_secret', 'webhooks')).name('ak_the_token')).not.toBe(name);
  });

  it('opens only what it sealed for that key: altered, moved, foreign and garbage values are refused', async () => {
    const seal = await StoreSeal.derive('sk_test_secret', 'machine-tokens');
    const sealed = await seal.seal('mt:key-a', '{"k":"api_key","u":1}');
    expect(await seal.open('mt:key-a', sealed)).toBe('{"k":"api_key","u":1}');
    // Moved to another token's key.
    expect(await seal.open('mt:key-b', sealed)).toBeUndefined();
    // Payload altered (a later `until`), MAC kept.
    const [version, , mac] = sealed.split('.');
    const forged = `${version}.${Buffer.from('{"k":"api_key","u":9999999999999}').toString('base64url')}.${mac}`;
    expect(await seal.open('mt:key-a', forged)).toBeUndefined();
    // Sealed by someone with another secret.
    const foreign = await (await StoreSeal.derive('sk_test_attacker', 'machine-tokens')).seal('mt:key-a', '{"k":"api_key","u":1}');
    expect(await seal.open('mt:key-a', foreign)).toBeUndefined();
    for (const garbage of ['', 'v1', 'v1..', 'v2.e30.AAAA', `v1.e30.${'A'.repeat(43)}`, '{"k":"api_key"}', 42, null, { k: 'api_key' }, 'x'.repeat(70_000)]) {
      expect(await seal.open('mt:key-a', garbage), JSON.stringify(garbage).slice(0, 40)).toBeUndefined();
    }
  });
});

describe('runOnce', () => {
  const options = { leaseMs: 5000, rememberMs: 60_000, waitMs: 500, timeoutMs: 200 };

  it('runs a task once per key; later calls are duplicates; a failing run is not recorded, so the next runs it', async () => {
    const store = createMemoryStore();
    let runs = 0;
    expect(await runOnce(store, 'k', () => runs++, options)).toEqual({ status: 'processed', remembered: true });
    expect(await runOnce(store, 'k', () => runs++, options)).toEqual({ status: 'duplicate' });
    expect(runs).toBe(1);

    const failure = new Error('database down');
    const failed = await runOnce(store, 'f', () => Promise.reject(failure), options);
    expect(failed).toEqual({ status: 'failed', error: failure });
    // The claim was released: a retry runs at once.
    expect(await runOnce(store, 'f', () => runs++, options)).toEqual({ status: 'processed', remembered: true });
    expect(runs).toBe(2);
  });

  it('concurrent calls (two instances on one store) run the task once; the others wait for it and are duplicates', async () => {
    const store = createMemoryStore();
    let runs = 0;
    const task = async () => {
      runs += 1;
      await sleep(50);
    };
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => runOnce(store, 'k', task, options)));
    expect(runs).toBe(1);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'processed']);
  });

  it('a run still in progress past waitMs is in-progress for the others (nothing runs twice)', async () => {
    const store = createMemoryStore();
    let runs = 0;
    const slow = runOnce(store, 'k', async () => {
      runs += 1;
      await sleep(300);
    }, options);
    await sleep(10);
    expect(await runOnce(store, 'k', () => runs++, { ...options, waitMs: 50 })).toEqual({ status: 'in-progress' });
    expect(await slow).toEqual({ status: 'processed', remembered: true });
    expect(runs).toBe(1);
  });

  it('a store that fails or hangs runs nothing and says so', async () => {
    const down: ClerkAuthStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      setIfAbsent: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteIfEquals: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const hanging: ClerkAuthStore = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), setIfAbsent: () => new Promise(() => {}), deleteIfEquals: () => new Promise(() => {}) };
    let runs = 0;
    expect(await runOnce(down, 'k', () => runs++, options)).toEqual({ status: 'store-unavailable' });
    expect(await runOnce(hanging, 'k', () => runs++, { ...options, timeoutMs: 30 })).toEqual({ status: 'store-unavailable' });
    expect(runs).toBe(0);
  });

  it('a done marker that cannot be written is reported (processed, not remembered)', async () => {
    const inner = createMemoryStore();
    const noWrites: ClerkAuthStore = { ...inner, get: (k) => inner.get(k), setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t), deleteIfEquals: (k, v) => inner.deleteIfEquals(k, v), set: () => Promise.reject(new Error('READONLY')) };
    expect(await runOnce(noWrites, 'k', () => {}, options)).toEqual({ status: 'processed', remembered: false });
  });
});
