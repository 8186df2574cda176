/** The one "end this stream at expiry" helper every integration uses (pure logic, in-process). */
import { describe, expect, it } from 'vitest';
import { expiryOf, isExpired, untilExpiry } from '../../src/core/internal.js';

async function* ticks(count: number, everyMs: number, stopped: { value: boolean }): AsyncGenerator<number> {
  try {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      yield i;
    }
  } finally {
    stopped.value = true;
  }
}

describe('untilExpiry', () => {
  it('passes values through until expiry, then yields last() once and stops the source', async () => {
    const stopped = { value: false };
    const stream = untilExpiry(ticks(1000, 20, stopped), Date.now() + 90, () => -1);
    const seen: number[] = [];
    for await (const value of stream) seen.push(value);
    expect(seen.at(-1)).toBe(-1);
    expect(seen.slice(0, -1)).toEqual(seen.slice(0, -1).map((_, i) => i));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.length).toBeLessThan(20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(stopped.value).toBe(true);
  });

  it('a value that arrives after expiry before the timer could run is not delivered: the stream ends with last()', async () => {
    const stopped = { value: false };
    const expiresAt = Date.now() + 30;
    async function* late(): AsyncGenerator<number> {
      try {
        yield 1;
        // Holds the event loop past expiresAt, so the expiry timer cannot fire before this value arrives.
        while (Date.now() <= expiresAt + 5) {
          // busy
        }
        yield 2;
        yield 3;
      } finally {
        stopped.value = true;
      }
    }
    const seen: number[] = [];
    for await (const value of untilExpiry(late(), expiresAt, () => -1)) seen.push(value);
    expect(seen).toEqual([1, -1]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stopped.value).toBe(true);
  });

  it('when last() throws, the pending next() rejects with that error (tRPC ends subscriptions so)', async () => {
    const stream = untilExpiry(ticks(1000, 20, { value: false }), Date.now() + 50, () => {
      throw new Error('expired');
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of stream) seen.push(value);
      })(),
    ).rejects.toThrow('expired');
    expect(seen.length).toBeLessThan(10);
  });

  it('an already expired credential never starts the source', async () => {
    let started = false;
    const source = {
      [Symbol.asyncIterator]() {
        return { next: () => ((started = true), Promise.resolve({ done: false as const, value: 1 })) };
      },
    };
    const stream = untilExpiry(source, Date.now() - 1, () => 0);
    expect(await stream.next()).toEqual({ done: false, value: 0 });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(started).toBe(false);
  });

  it('return() stops the source and the timer', async () => {
    const stopped = { value: false };
    const stream = untilExpiry(ticks(1000, 5, stopped), Date.now() + 60_000, () => -1);
    expect((await stream.next()).value).toBe(0);
    expect(await stream.return?.()).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped.value).toBe(true);
  });
});

describe('expiryOf / isExpired', () => {
  it('uses the core’s expiresAt, else a session’s exp plus the skew', () => {
    const now = Date.now();
    expect(expiryOf({ auth: {} as never, reason: null, expiresAt: now + 10 }, 5000)).toBe(now + 10);
    const session = { tokenType: 'session_token', isAuthenticated: true, sessionClaims: { exp: Math.floor(now / 1000) - 1 } } as never;
    expect(expiryOf({ auth: session, reason: null }, 5000)).toBe((Math.floor(now / 1000) - 1) * 1000 + 5000);
    expect(isExpired({ auth: session, reason: null }, 0, now)).toBe(true);
    expect(isExpired({ auth: session, reason: null }, 5000, now)).toBe(false);
    expect(expiryOf({ auth: { tokenType: 'session_token', isAuthenticated: false } as never, reason: 'token-missing' }, 5000)).toBeUndefined();
  });
});
