import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequirement, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { clerkAuthHeaders, clerkConnectionParams, createClerkFetch, isInvalidTokenResponse } from 'clerk-api-auth/client';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { serve, type Served } from '../../examples/shared/serve.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let server: Served;
const bodies: string[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
  // A protected echo endpoint over real loopback HTTP.
  server = await serve(
    async (request) => {
      const check = checkRequirement(await clerkAuth.authenticate(request));
      if (!check.ok) {
        const headers: Record<string, string> = 'wwwAuthenticate' in check.error ? { 'www-authenticate': check.error.wwwAuthenticate } : {};
        return Response.json({ code: check.error.code }, { status: check.error.status, headers });
      }
      const body = await request.text();
      bodies.push(body);
      return Response.json({ ok: true, body });
    },
    { port: 0, host: '127.0.0.1', name: 'echo', log: () => {} },
  );
});
afterAll(() => server.close());

function tokenSource(tokens: Array<string | null>) {
  const calls: Array<{ skipCache: boolean }> = [];
  const getToken = async (options?: { skipCache?: boolean }) => {
    calls.push({ skipCache: options?.skipCache === true });
    return tokens.shift() ?? null;
  };
  return { getToken, calls };
}

describe('createClerkFetch', () => {
  it('sends the bearer token', async () => {
    const { getToken, calls } = tokenSource([await issuer.sessionToken()]);
    const response = await createClerkFetch({ getToken })(`${server.url}/echo`);
    expect(response.status).toBe(200);
    expect(calls).toEqual([{ skipCache: false }]);
  });

  it('retries once with skipCache on an expired token, resending the body', async () => {
    const expired = await issuer.sessionToken({ expiresInSeconds: -10 });
    const fresh = await issuer.sessionToken();
    const { getToken, calls } = tokenSource([expired, fresh]);
    const response = await createClerkFetch({ getToken })(`${server.url}/echo`, { method: 'POST', body: JSON.stringify({ text: 'hello' }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: '{"text":"hello"}' });
    expect(calls).toEqual([{ skipCache: false }, { skipCache: true }]);
  });

  it('retries a streamed body too', async () => {
    const { getToken } = tokenSource([await issuer.sessionToken({ expiresInSeconds: -10 }), await issuer.sessionToken()]);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await createClerkFetch({ getToken })(`${server.url}/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(await response.json()).toEqual({ ok: true, body: 'streamed' });
  });

  it('retries at most once', async () => {
    const expired = await issuer.sessionToken({ expiresInSeconds: -10 });
    const { getToken, calls } = tokenSource([expired, expired, expired]);
    const response = await createClerkFetch({ getToken })(`${server.url}/echo`);
    expect(response.status).toBe(401);
    expect(isInvalidTokenResponse(response)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('does not retry a 401 that asks for no token refresh (signed out)', async () => {
    const { getToken, calls } = tokenSource([null]);
    const response = await createClerkFetch({ getToken })(`${server.url}/echo`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(isInvalidTokenResponse(response)).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('a getter that throws sends no token rather than failing the call', async () => {
    const response = await createClerkFetch({
      getToken: () => {
        throw new Error('offline');
      },
    })(`${server.url}/echo`);
    expect(response.status).toBe(401);
  });
});

describe('link helpers', () => {
  it('clerkAuthHeaders gives the Authorization header, or none', async () => {
    expect(await clerkAuthHeaders(() => 'abc')()).toEqual({ authorization: 'Bearer abc' });
    expect(await clerkAuthHeaders(() => null)()).toEqual({});
  });

  it('clerkConnectionParams asks for a fresh token on every connection', async () => {
    const { getToken, calls } = tokenSource(['t1', 't2']);
    const params = clerkConnectionParams(getToken);
    expect(await params()).toEqual({ token: 't1' });
    expect(await params()).toEqual({ token: 't2' });
    expect(calls).toEqual([{ skipCache: true }, { skipCache: true }]);
  });
});
