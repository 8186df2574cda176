import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequirement, createClerkAuth, type AuthRequirement, type ClerkAuth } from 'clerk-api-auth';
import { clerkAuthHeaders, clerkConnectionParams, createClerkFetch, isInvalidTokenResponse, isRefreshableTokenResponse } from 'clerk-api-auth/client';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { serve, type Served } from '../../examples/shared/serve.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let server: Served;
let scripted: Served;
const bodies: string[] = [];
/** Requests the scripted server received, by case. */
const received = new Map<string, number>();

/**
 * What the scripted server answers a request that does not carry the token `fresh`, by case:
 * each refusal a server may send, exactly as it sends it.
 */
const REFUSALS: Record<string, { status: number; challenge?: string }> = {
  'token-expired': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-expired"' },
  'token-not-active-yet': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-not-active-yet"' },
  'token-iat-in-the-future': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-iat-in-the-future"' },
  'token-invalid-signature': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-invalid-signature"' },
  'jwk-kid-mismatch': { status: 401, challenge: 'Bearer error="invalid_token", error_description="jwk-kid-mismatch"' },
  'unquoted-expired': { status: 401, challenge: 'Bearer error=invalid_token, error_description=token-expired' },
  'second-challenge': { status: 401, challenge: 'Basic realm="legacy", Bearer realm="api", error="invalid_token", error_description="token-expired"' },
  'bad-request': { status: 400, challenge: 'Bearer error="invalid_request", error_description="multiple-authorization-headers"' },
  'bad-request-expired': { status: 400, challenge: 'Bearer error="invalid_request", error_description="token-expired"' },
  forbidden: { status: 403, challenge: 'Bearer error="insufficient_scope"' },
  'token-type-mismatch': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-type-mismatch"' },
  'no-challenge': { status: 401 },
  'bare-bearer': { status: 401, challenge: 'Bearer' },
  'no-description': { status: 401, challenge: 'Bearer error="invalid_token"' },
  'token-invalid': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-invalid"' },
  'session-pending': { status: 401, challenge: 'Bearer error="invalid_token", error_description="session-pending"' },
  'authorized-parties': { status: 401, challenge: 'Bearer error="invalid_token", error_description="token-invalid-authorized-parties"' },
  'malformed-authorization-header': { status: 401, challenge: 'Bearer error="invalid_token", error_description="malformed-authorization-header"' },
  'other-scheme-description': { status: 401, challenge: 'Bearer realm="api", Other error="invalid_token", error_description="token-expired"' },
};
const REFRESHABLE_CASES = ['token-expired', 'token-not-active-yet', 'token-iat-in-the-future', 'token-invalid-signature', 'jwk-kid-mismatch', 'unquoted-expired', 'second-challenge'];
const FINAL_CASES = Object.keys(REFUSALS).filter((name) => !REFRESHABLE_CASES.includes(name));

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
  // A protected echo endpoint over real loopback HTTP.
  server = await serve(
    async (request) => {
      const requirement: AuthRequirement = new URL(request.url).pathname === '/admin' ? { role: 'org:admin' } : {};
      const check = checkRequirement(await clerkAuth.authenticate(request, { acceptsToken: 'any' }), requirement);
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
  scripted = await serve(
    async (request) => {
      const name = new URL(request.url).pathname.slice(1);
      received.set(name, (received.get(name) ?? 0) + 1);
      const body = await request.text();
      if (request.headers.get('authorization') === 'Bearer fresh') return Response.json({ ok: true, body });
      const refusal = REFUSALS[name];
      if (refusal === undefined) return new Response('no such case', { status: 404 });
      return Response.json({ refused: name }, { status: refusal.status, headers: refusal.challenge === undefined ? {} : { 'www-authenticate': refusal.challenge } });
    },
    { port: 0, host: '127.0.0.1', name: 'scripted', log: () => {} },
  );
});
afterAll(async () => {
  await server.close();
  await scripted.close();
});

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

describe('createClerkFetch retries only when a fresh token can help', () => {
  it.each(REFRESHABLE_CASES)('retries exactly once with skipCache: %s', async (name) => {
    const { getToken, calls } = tokenSource(['stale', 'fresh']);
    const response = await createClerkFetch({ getToken })(`${scripted.url}/${name}`, { method: 'POST', body: 'payload' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: 'payload' });
    expect(received.get(name)).toBe(2);
    expect(calls).toEqual([{ skipCache: false }, { skipCache: true }]);
  });

  it.each(FINAL_CASES)('does not retry, nor ask for a new token: %s', async (name) => {
    const { getToken, calls } = tokenSource(['stale', 'fresh']);
    const response = await createClerkFetch({ getToken })(`${scripted.url}/${name}`, { method: 'POST', body: 'payload' });
    const refusal = REFUSALS[name] as { status: number; challenge?: string };
    expect(response.status).toBe(refusal.status);
    expect(response.headers.get('www-authenticate')).toBe(refusal.challenge ?? null);
    expect(await response.json()).toEqual({ refused: name });
    expect(received.get(name)).toBe(1);
    expect(calls).toEqual([{ skipCache: false }]);
  });

  it('against a verifying server: retries the reasons the core really gives for expired, future and foreign-signed tokens', async () => {
    const foreign = await createTestIssuer();
    const cases: Array<[string, string]> = [
      [await issuer.sessionToken({ expiresInSeconds: -10 }), 'token-expired'],
      [await issuer.sessionToken({ notBeforeOffsetSeconds: 120, expiresInSeconds: 600 }), 'token-not-active-yet'],
      [await issuer.sessionToken({ issuedAtOffsetSeconds: 120, notBeforeOffsetSeconds: -5 }), 'token-iat-in-the-future'],
      [await foreign.sessionToken(), 'token-invalid-signature'],
    ];
    for (const [stale, reason] of cases) {
      const statuses: number[] = [];
      const recording: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        if (response.status === 401) expect(response.headers.get('www-authenticate'), reason).toBe(`Bearer error="invalid_token", error_description="${reason}"`);
        return response;
      };
      const { getToken, calls } = tokenSource([stale, await issuer.sessionToken()]);
      const response = await createClerkFetch({ getToken, fetch: recording })(`${server.url}/echo`);
      expect(response.status, reason).toBe(200);
      expect(statuses, reason).toEqual([401, 200]);
      expect(calls, reason).toEqual([{ skipCache: false }, { skipCache: true }]);
    }
  });

  it('against a verifying server: no retry for a token of the wrong kind or a missing role', async () => {
    const cases: Array<[string, string, number]> = [
      [await issuer.m2mToken(), '/echo', 401],
      [await issuer.sessionToken({ org: { id: 'org_1', role: 'member' } }), '/admin', 403],
    ];
    for (const [token, path, status] of cases) {
      const { getToken, calls } = tokenSource([token, await issuer.sessionToken({ org: { id: 'org_1', role: 'admin' } })]);
      const response = await createClerkFetch({ getToken })(`${server.url}${path}`);
      expect(response.status, path).toBe(status);
      expect(calls, path).toEqual([{ skipCache: false }]);
    }
  });
});

describe('isRefreshableTokenResponse and isInvalidTokenResponse', () => {
  const response = (status: number, challenge?: string) => new Response(null, { status, headers: challenge === undefined ? {} : { 'www-authenticate': challenge } });

  it('read the Bearer challenge: refreshable reasons, and rejections in general', () => {
    for (const name of REFRESHABLE_CASES) {
      const { status, challenge } = REFUSALS[name] as { status: number; challenge?: string };
      expect(isRefreshableTokenResponse(response(status, challenge)), name).toBe(true);
      expect(isInvalidTokenResponse(response(status, challenge)), name).toBe(true);
    }
    for (const name of FINAL_CASES) {
      const { status, challenge } = REFUSALS[name] as { status: number; challenge?: string };
      expect(isRefreshableTokenResponse(response(status, challenge)), name).toBe(false);
    }
    // Rejected, but not worth a new token.
    expect(isInvalidTokenResponse(response(401, 'Bearer error="invalid_token", error_description="token-type-mismatch"'))).toBe(true);
    expect(isInvalidTokenResponse(response(401, 'Bearer error="invalid_token"'))).toBe(true);
    expect(isInvalidTokenResponse(response(401, 'Bearer'))).toBe(false);
    expect(isInvalidTokenResponse(response(403, 'Bearer error="invalid_token"'))).toBe(false);
    expect(isInvalidTokenResponse(response(401, 'Basic error="invalid_token"'))).toBe(false);
    // An escaped quote inside a quoted value, and the scheme in any case.
    expect(isRefreshableTokenResponse(response(401, 'bearer realm="a \\"b\\"", error="invalid_token", error_description="token-expired"'))).toBe(true);
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
