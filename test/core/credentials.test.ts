import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
let remote: ClerkAuth;
let token: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  remote = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
  token = await issuer.sessionToken({ userId: 'user_header' });
});
afterAll(() => api.close());

const req = (headers: Record<string, string>, url = 'http://api.test/graphql') => new Request(url, { headers });
const userOf = (result: AuthenticateResult) => (result.auth.tokenType === 'session_token' ? result.auth.userId : null);

describe('reading the credential of a web Request', () => {
  it('accepts the Bearer scheme in any case (RFC 7235)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const result = await clerkAuth.authenticate(req({ authorization: `${scheme} ${token}` }));
      expect(result.reason, scheme).toBeNull();
      expect(userOf(result)).toBe('user_header');
    }
  });

  it('refuses two credentials in one header (as fetch joins repeated headers)', async () => {
    const headers = new Headers();
    headers.append('authorization', `Bearer ${token}`);
    headers.append('authorization', `Bearer ${token}`);
    expect((await clerkAuth.authenticate(new Request('http://api.test/', { headers }))).reason).toBe('multiple-authorization-headers');
  });

  it('refuses empty, malformed and non-Bearer credentials before any crypto or network', async () => {
    api.resetCounts();
    const cases: Array<[string, string]> = [
      ['Bearer', 'malformed-authorization-header'],
      ['Bearer ', 'malformed-authorization-header'],
      ['Basic dXNlcjpwYXNz', 'malformed-authorization-header'],
      [token, 'malformed-authorization-header'],
      [`Bearer ${token} extra`, 'malformed-authorization-header'],
      [`Bearer "${token}"`, 'malformed-authorization-header'],
      ['Bearer a\u00e9b', 'malformed-authorization-header'],
      [`Bearer ${'a'.repeat(20_000)}`, 'token-too-large'],
    ];
    for (const [value, reason] of cases) {
      const result = await remote.authenticate({ headers: { authorization: value } });
      expect(result.reason, value.slice(0, 30)).toBe(reason);
      expect(result.auth.isAuthenticated).toBe(false);
    }
    expect(api.requestCount).toBe(0);
  });

  it('reads a same-origin __session cookie when there is no Authorization header', async () => {
    const cookie = `theme=dark; __session=${token}; other=1`;
    expect(userOf(await clerkAuth.authenticate(req({ cookie })))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(req({ cookie, origin: 'http://api.test' })))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(req({ cookie, 'sec-fetch-site': 'same-origin' })))).toBe('user_header');
  });

  it('never authenticates a cross-site request by cookie', async () => {
    const cookie = `__session=${token}`;
    for (const headers of <Array<Record<string, string>>>[
      { cookie, origin: 'https://evil.example' },
      { cookie, origin: 'null' },
      { cookie, 'sec-fetch-site': 'cross-site' },
      { cookie, 'sec-fetch-site': 'same-site' },
    ]) {
      const result = await clerkAuth.authenticate(req(headers));
      expect(result.reason, JSON.stringify(headers)).toBe('token-missing');
    }
  });

  it('prefers the Authorization header over the cookie', async () => {
    const other = await issuer.sessionToken({ userId: 'user_cookie' });
    expect(userOf(await clerkAuth.authenticate(req({ authorization: `Bearer ${token}`, cookie: `__session=${other}` })))).toBe('user_header');
    // A bad header is not rescued by a good cookie.
    expect((await clerkAuth.authenticate(req({ authorization: 'Bearer nope', cookie: `__session=${other}` }))).reason).toBe('token-invalid');
  });
});

describe('reading the credential of a Node IncomingMessage from a real node:http server', () => {
  async function viaNode(headers: Array<[string, string]>): Promise<AuthenticateResult> {
    let captured: Promise<AuthenticateResult> | undefined;
    const server = createServer((incoming: IncomingMessage, res) => {
      captured = clerkAuth.authenticate(incoming);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const outgoing = httpRequest({ port, host: '127.0.0.1', path: '/', method: 'GET' }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      outgoing.on('error', reject);
      for (const [name, value] of headers) {
        const existing = outgoing.getHeader(name);
        outgoing.setHeader(name, existing === undefined ? value : [...([] as string[]).concat(existing as string), value]);
      }
      outgoing.end();
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!captured) throw new Error('no request captured');
    return captured;
  }

  it('authenticates a Bearer token', async () => {
    expect(userOf(await viaNode([['Authorization', `bearer ${token}`]]))).toBe('user_header');
  });

  it('refuses two Authorization headers even though Node keeps only the first in req.headers', async () => {
    const result = await viaNode([
      ['Authorization', `Bearer ${token}`],
      ['Authorization', 'Bearer other'],
    ]);
    expect(result.reason).toBe('multiple-authorization-headers');
  });

  it('reads the cookie', async () => {
    expect(userOf(await viaNode([['Cookie', `__session=${token}`]]))).toBe('user_header');
  });
});

describe('a bare token string (WebSocket connection params)', () => {
  it('accepts the token alone or with the Bearer scheme', async () => {
    expect(userOf(await clerkAuth.authenticate(token))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(`Bearer ${token}`))).toBe('user_header');
  });

  it('never throws, whatever it is given', async () => {
    const hostile: unknown[] = [42, {}, { headers: null }, { headers: { authorization: 42 } }, [], Symbol('x'), () => 1, new Proxy({}, { get: () => { throw new Error('boom'); } })];
    for (const input of hostile) {
      const result = await clerkAuth.authenticate(input as never);
      expect(result.auth.isAuthenticated).toBe(false);
      expect(result.reason).not.toBeNull();
    }
  });
});
