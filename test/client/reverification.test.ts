/**
 * clerk-api-auth/client's reverification helpers: finding the servers' reverification hint wherever
 * a client library puts it (pure logic, in-process), turning it into Clerk's hint for
 * `useReverification`, minting a fresh token for the retry — and `createClerkFetch` leaving a 403
 * with the hint alone (real loopback HTTP).
 */
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clerkReverification, createClerkFetch, reverificationHintOf } from 'clerk-api-auth/client';
import { serve, type Served } from '../../examples/shared/serve.js';

const clerkError = reverificationError('strict').clerk_error;

describe('reverificationHintOf', () => {
  it('finds the hint where tRPC puts it: TRPCClientError.data, .shape.data, a raw envelope, a batch', () => {
    const data = { code: 'FORBIDDEN', httpStatus: 403, path: 'account.rotateKey', clerk_error: clerkError };
    for (const value of [
      Object.assign(new Error('forbidden'), { data }),
      Object.assign(new Error('forbidden'), { shape: { message: 'forbidden', code: -32003, data } }),
      { error: { message: 'forbidden', code: -32003, data } },
      [{ result: { data: { ok: true } } }, { error: { message: 'forbidden', code: -32003, data } }],
    ]) {
      const hint = reverificationHintOf(value);
      expect(hint).toEqual(reverificationError('strict'));
      expect(isReverificationHint(hint)).toBe(true);
    }
  });

  it('finds the hint where GraphQL clients put it: a body’s errors, graphql-request’s ClientError, combined errors, causes', () => {
    const graphQLError = { message: 'forbidden', path: ['rotateKey'], extensions: { code: 'FORBIDDEN', clerk_error: clerkError } };
    const body = { data: null, errors: [{ message: 'other', extensions: { code: 'X' } }, graphQLError] };
    for (const value of [
      body,
      Object.assign(new Error('GraphQL Error'), { response: { ...body, status: 403, headers: new Headers() }, request: { query: 'mutation { rotateKey }' } }),
      Object.assign(new Error('combined'), { graphQLErrors: [graphQLError] }),
      new Error('wrapped', { cause: Object.assign(new Error('inner'), { errors: [graphQLError] }) }),
    ]) {
      expect(reverificationHintOf(value)).toEqual(reverificationError('strict'));
    }
  });

  it('returns a hint itself, rebuilt by Clerk’s helper, with a custom window kept as sent', () => {
    const window = { level: 'second_factor', afterMinutes: 5 } as const;
    expect(reverificationHintOf(reverificationError(window))).toEqual({ clerk_error: { type: 'forbidden', reason: 'reverification-error', metadata: { reverification: window } } });
    // A setting Clerk would not accept is dropped (the prompt then asks at Clerk's default level), never passed on.
    const bogus = { clerk_error: { type: 'forbidden', reason: 'reverification-error', metadata: { reverification: { level: 'root', afterMinutes: -1 } } } };
    expect(reverificationHintOf(bogus)).toEqual(reverificationError());
    expect(reverificationHintOf(bogus)?.clerk_error.metadata.reverification).toBeUndefined();
  });

  it('is null for anything else: other errors, another reason, no hint, a cycle, a hint nested too deep', () => {
    const cyclic: Record<string, unknown> = { message: 'x' };
    cyclic.cause = cyclic;
    cyclic.data = cyclic;
    let deep: Record<string, unknown> = { clerk_error: clerkError };
    for (let i = 0; i < 10; i++) deep = { cause: deep };
    for (const value of [
      null,
      undefined,
      'reverification-error',
      42,
      new Error('plain'),
      { data: { code: 'FORBIDDEN', httpStatus: 403 } },
      { errors: [{ extensions: { code: 'FORBIDDEN' } }] },
      { data: { clerk_error: { type: 'forbidden', reason: 'something-else' } } },
      { data: { clerk_error: { type: 'unauthorized', reason: 'reverification-error' } } },
      cyclic,
      deep,
    ]) {
      expect(reverificationHintOf(value)).toBeNull();
    }
  });
});

describe('clerkReverification', () => {
  function getter() {
    const calls: Array<boolean> = [];
    let minted = 0;
    let cached = 'token-0';
    return {
      calls,
      getToken: async (options?: { skipCache?: boolean }) => {
        calls.push(options?.skipCache === true);
        if (options?.skipCache === true) cached = `token-${++minted}`;
        return cached;
      },
    };
  }

  it('refuses a getToken that is not a function', () => {
    expect(() => clerkReverification({ getToken: undefined as never })).toThrow(TypeError);
  });

  it('passes results and other errors through unchanged', async () => {
    const { getToken } = getter();
    const reverification = clerkReverification({ getToken });
    const value = { rotated: true };
    expect(await reverification.fetcher(async () => value)()).toBe(value);
    const error = new Error('network down');
    await expect(
      reverification.fetcher(async () => {
        throw error;
      })(),
    ).rejects.toBe(error);
  });

  it('turns a thrown error carrying the hint into Clerk’s hint, and mints a fresh token for the retry only', async () => {
    const source = getter();
    const reverification = clerkReverification({ getToken: source.getToken });
    let attempt = 0;
    const seen: string[] = [];
    const call = reverification.fetcher(async (label: string) => {
      seen.push(`${label}:${(await reverification.getToken()) ?? ''}`);
      attempt += 1;
      if (attempt === 1) throw Object.assign(new Error('forbidden'), { data: { code: 'FORBIDDEN', clerk_error: clerkError } });
      return { rotated: true };
    });
    const first = await call('a');
    expect(isReverificationHint(first)).toBe(true);
    expect(await call('a')).toEqual({ rotated: true });
    expect(seen).toEqual(['a:token-0', 'a:token-1']); // the retry read a freshly minted token
    expect(source.calls).toEqual([false, true]);
    await reverification.getToken();
    expect(source.calls).toEqual([false, true, false]); // and only the retry
  });

  it('knows the retry even when the wrapper is created anew for it (as a component re-rendering does)', async () => {
    const source = getter();
    const reverification = clerkReverification({ getToken: source.getToken });
    let attempt = 0;
    const call = async () => {
      await reverification.getToken();
      attempt += 1;
      if (attempt === 1) throw Object.assign(new Error('forbidden'), { data: { clerk_error: clerkError } });
      return 'ok';
    };
    expect(isReverificationHint(await reverification.fetcher(call)())).toBe(true);
    expect(await reverification.fetcher(call)()).toBe('ok');
    expect(source.calls).toEqual([false, true]);
  });

  it('reads a JSON Response: the hint in a tRPC or GraphQL body becomes the hint; any other response is returned readable', async () => {
    const { getToken } = getter();
    const reverification = clerkReverification({ getToken });
    const hinted = await reverification.fetcher(async () =>
      Response.json({ errors: [{ message: 'forbidden', extensions: { code: 'FORBIDDEN', clerk_error: clerkError } }] }, { status: 403 }),
    )();
    expect(hinted).toEqual(reverificationError('strict'));
    const plain = await reverification.fetcher(async () => Response.json({ data: { rotateKey: true } }))();
    expect(plain).toBeInstanceOf(Response);
    expect(await (plain as Response).json()).toEqual({ data: { rotateKey: true } });
    const text = await reverification.fetcher(async () => new Response(JSON.stringify({ clerk_error: clerkError }), { status: 403, headers: { 'content-type': 'text/plain' } }))();
    expect(text).toBeInstanceOf(Response);
  });
});

describe('createClerkFetch and a reverification 403', () => {
  let server: Served;
  let requests = 0;

  beforeAll(async () => {
    server = await serve(
      async () => {
        requests += 1;
        return Response.json(
          { error: { message: 'reverify', code: -32003, data: { code: 'FORBIDDEN', httpStatus: 403, clerk_error: clerkError } } },
          { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' } },
        );
      },
      { port: 0, host: '127.0.0.1', name: 'reverify', log: () => {} },
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is returned as is: no retry and no fresh token (the retry is the user’s to approve)', async () => {
    const skipCache: boolean[] = [];
    const clerkFetch = createClerkFetch({ getToken: async (options) => (skipCache.push(options?.skipCache === true), 'token') });
    const response = await clerkFetch(`${server.url}/trpc/account.rotateKey`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
    expect(reverificationHintOf(await response.json())).toEqual(reverificationError('strict'));
    expect(requests).toBe(1);
    expect(skipCache).toEqual([false]);
  });
});
