import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getCookieSuffix } from '@clerk/shared/keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, isCredentialRejected, type AuthenticateInput, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
let remote: ClerkAuth;
let token: string;
let iat: number;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  remote = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
  token = await issuer.sessionToken({ userId: 'user_header' });
  iat = (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { iat: number }).iat;
});
afterAll(() => api.close());

const req = (headers: Record<string, string>, url = 'http://api.test/graphql') => new Request(url, { headers });
const userOf = (result: AuthenticateResult) => (result.auth.tokenType === 'session_token' ? result.auth.userId : null);
/** A same-origin cookie request carrying `__session` (and `__client_uat` unless `uat` is null). */
const cookieReq = (session: string, uat: string | number | null = 1, extra = '') =>
  req({ cookie: `theme=dark; __session=${session}${uat === null ? '' : `; __client_uat=${uat}`}${extra}` });

async function viaNode(headers: Array<[string, string]>, toInput: (incoming: IncomingMessage) => AuthenticateInput = (incoming) => incoming): Promise<AuthenticateResult> {
  let captured: Promise<AuthenticateResult> | undefined;
  const server = createServer((incoming: IncomingMessage, res) => {
    captured = clerkAuth.authenticate(toInput(incoming));
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

  it('refuses empty, malformed, non-Bearer and non-token68 credentials before any crypto or network', async () => {
    // The token itself is verified and cached first: none of the malformed variants may ride on that entry.
    expect((await remote.authenticate({ headers: { authorization: `Bearer ${token}` } })).reason).toBeNull();
    api.resetCounts();
    const cases: Array<[string, string]> = [
      ['Bearer', 'malformed-authorization-header'],
      ['Bearer ', 'malformed-authorization-header'],
      ['Basic dXNlcjpwYXNz', 'malformed-authorization-header'],
      [token, 'malformed-authorization-header'],
      [`Bearer ${token} extra`, 'malformed-authorization-header'],
      [`Bearer ${token},`, 'malformed-authorization-header'],
      [`Bearer ${token}\textra`, 'malformed-authorization-header'],
      [`Bearer ${token}\u00a0x`, 'malformed-authorization-header'],
      [`Bearer \t${token}`, 'malformed-authorization-header'],
      // One credential whose characters are not a token68: a bad token (401), still refused before any crypto.
      [`Bearer "${token}"`, 'token-invalid'],
      ['Bearer a\u00e9b', 'token-invalid'],
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
    const cookie = `theme=dark; __session=${token}; other=1; __client_uat=1`;
    expect(userOf(await clerkAuth.authenticate(req({ cookie })))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(req({ cookie, origin: 'http://api.test' })))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(req({ cookie, 'sec-fetch-site': 'same-origin' })))).toBe('user_header');
  });

  it('never authenticates a cross-site request by cookie', async () => {
    const cookie = `__session=${token}; __client_uat=1`;
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
    expect(userOf(await clerkAuth.authenticate(req({ authorization: `Bearer ${token}`, cookie: `__session=${other}; __client_uat=1` })))).toBe('user_header');
    // A bad header is not rescued by a good cookie.
    expect((await clerkAuth.authenticate(req({ authorization: 'Bearer nope', cookie: `__session=${other}; __client_uat=1` }))).reason).toBe('token-invalid');
  });
});

describe("Clerk's cookie rules", () => {
  it('a session cookie without __client_uat, or with __client_uat=0, is not signed in (a rejected credential)', async () => {
    for (const uat of [null, 0, '0', 'abc', '']) {
      const result = await clerkAuth.authenticate(cookieReq(token, uat));
      expect(result.reason, String(uat)).toBe('session-token-but-no-client-uat');
      expect(result.auth.isAuthenticated).toBe(false);
      expect(isCredentialRejected(result.reason)).toBe(true);
    }
    // __client_uat alone is no credential at all.
    expect((await clerkAuth.authenticate(req({ cookie: '__client_uat=1700000000' }))).reason).toBe('token-missing');
  });

  it('a cookie token issued before __client_uat is stale; issued at or after it, it signs in', async () => {
    const stale = await clerkAuth.authenticate(cookieReq(token, iat + 1));
    expect(stale.reason).toBe('session-token-iat-before-client-uat');
    expect(isCredentialRejected(stale.reason)).toBe(true);
    expect(userOf(await clerkAuth.authenticate(cookieReq(token, iat)))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(cookieReq(token, iat - 3600)))).toBe('user_header');
    // Once verified and cached, the token is still judged against each request's __client_uat.
    expect((await clerkAuth.authenticate(cookieReq(token, iat + 1))).reason).toBe('session-token-iat-before-client-uat');
    // The header is not subject to the cookie rules.
    expect(userOf(await clerkAuth.authenticate(req({ authorization: `Bearer ${token}`, cookie: `__client_uat=${iat + 1}` })))).toBe('user_header');
  });

  it('the cookie only carries a session token: machine JWTs, JWT templates and opaque tokens are refused with no Backend API call', async () => {
    const m2m = await issuer.m2mToken({ machineId: 'mch_cookie' });
    const oauth = await issuer.oauthToken({ userId: 'user_oauth' });
    const template = await issuer.sign({ sub: 'user_header', iat, exp: iat + 600 }, { alg: 'RS256', typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD222AAA' });
    const apiKey = issuer.apiKey({ subject: 'user_apikey' }).token;
    const opaqueM2m = issuer.opaqueM2mToken({ machineId: 'mch_opaque' }).token;
    api.resetCounts();
    const cases: Array<[string, string]> = [
      [m2m, 'token-type-mismatch'],
      [oauth, 'token-type-mismatch'],
      [template, 'token-type-mismatch'],
      [apiKey, 'token-invalid'],
      [opaqueM2m, 'token-invalid'],
      ['oat_opaque_token_value', 'token-invalid'],
    ];
    for (const [value, reason] of cases) {
      for (const acceptsToken of ['any', ['session_token', 'm2m_token', 'api_key', 'oauth_token'], 'session_token'] as const) {
        const result = await remote.authenticate(cookieReq(value), { acceptsToken });
        expect(result.reason, `${value.slice(0, 12)} ${JSON.stringify(acceptsToken)}`).toBe(reason);
        expect(result.auth.isAuthenticated).toBe(false);
      }
    }
    expect(api.requestCount).toBe(0); // not even a JWKS fetch
    // The same tokens in the Authorization header are verified as what they are.
    expect((await remote.authenticate(req({ authorization: `Bearer ${apiKey}` }), { acceptsToken: 'any' })).auth.isAuthenticated).toBe(true);
    expect(api.count('api_keys.verify')).toBe(1);
  });

  it('a call that accepts no session token does not read the cookie at all', async () => {
    for (const acceptsToken of ['m2m_token', 'api_key', ['m2m_token', 'oauth_token']] as const) {
      const result = await clerkAuth.authenticate(cookieReq(token), { acceptsToken });
      expect(result.reason, JSON.stringify(acceptsToken)).toBe('token-missing');
    }
    // Calls that accept sessions among other kinds read it, as a session.
    for (const acceptsToken of ['any', ['m2m_token', 'session_token']] as const) {
      expect(userOf(await clerkAuth.authenticate(cookieReq(token), { acceptsToken }))).toBe('user_header');
    }
  });

  it('reads the suffixed cookies Clerk chooses when a publishable key is configured', async () => {
    const withKey = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, publishableKey: issuer.publishableKey });
    const suffix = await getCookieSuffix(issuer.publishableKey);
    const suffixedOnly = req({ cookie: `__session_${suffix}=${token}; __client_uat_${suffix}=1` });
    expect(userOf(await withKey.authenticate(suffixedOnly))).toBe('user_header');
    // Without the key the suffix is unknown: only __session is read.
    expect((await clerkAuth.authenticate(suffixedOnly)).reason).toBe('token-missing');
    // Both pairs, the unsuffixed one from another Clerk app on this domain: the suffixed one is this app's.
    const elsewhere = await (await createTestIssuer({ frontendApi: 'clerk.other.test' })).sessionToken({ userId: 'user_elsewhere' });
    const both = req({ cookie: `__session=${elsewhere}; __client_uat=1; __session_${suffix}=${token}; __client_uat_${suffix}=1` });
    expect(userOf(await withKey.authenticate(both))).toBe('user_header');
    // A signed-out suffixed client (`__client_uat_<suffix>=0`) next to a signed-in unsuffixed one: Clerk reads the unsuffixed pair.
    const newer = await issuer.sessionToken({ userId: 'user_unsuffixed' });
    const signedOutSuffixed = req({ cookie: `__session=${newer}; __client_uat=1; __session_${suffix}=${token}; __client_uat_${suffix}=0` });
    expect(userOf(await withKey.authenticate(signedOutSuffixed))).toBe('user_unsuffixed');
  });

  it('unquotes a quoted cookie value, reads a cookie sent twice with one value, and no cookie sent twice with two', async () => {
    expect(userOf(await clerkAuth.authenticate(req({ cookie: `__session="${token}"; __client_uat="1"` })))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(req({ cookie: `__session=${token}; __session=${token}; __client_uat=1` })))).toBe('user_header');
    const other = await issuer.sessionToken({ userId: 'user_other' });
    expect((await clerkAuth.authenticate(req({ cookie: `__session=${token}; __session=${other}; __client_uat=1` }))).reason).toBe('token-missing');
    expect((await clerkAuth.authenticate(req({ cookie: `__session=${token}; __client_uat=1; __client_uat=2` }))).reason).toBe('session-token-but-no-client-uat');
  });
});

describe('connection parameters (ConnectionInput)', () => {
  it('reads `token`, `authorization` and `headers.authorization` in any case, with or without the Bearer scheme', async () => {
    const shapes: Array<Record<string, unknown>> = [
      { token },
      { token: `Bearer ${token}` },
      { Token: token },
      { authorization: `Bearer ${token}` },
      { Authorization: `bearer ${token}` },
      { AUTHORIZATION: token },
      { headers: { authorization: `Bearer ${token}` } },
      { headers: { Authorization: `BEARER ${token}` } },
      { token, authorization: `Bearer ${token}`, headers: { Authorization: token } }, // one token, three places
    ];
    for (const connectionParams of shapes) {
      const result = await clerkAuth.authenticate({ connectionParams });
      expect(userOf(result), JSON.stringify(Object.keys(connectionParams))).toBe('user_header');
    }
  });

  it('refuses a value that is not a string, two different tokens, and malformed or oversized ones', async () => {
    const other = await issuer.sessionToken({ userId: 'user_other' });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ token: 42 }, 'malformed-authorization-header'],
      [{ authorization: ['Bearer', token] }, 'malformed-authorization-header'],
      [{ headers: { authorization: { value: token } } }, 'malformed-authorization-header'],
      [{ token, authorization: `Bearer ${other}` }, 'multiple-authorization-headers'],
      [{ token, headers: { authorization: other } }, 'multiple-authorization-headers'],
      [{ authorization: `Bearer ${token}, Bearer ${other}` }, 'multiple-authorization-headers'],
      [{ token: 'not a token' }, 'malformed-authorization-header'],
      [{ authorization: `Basic ${token}` }, 'malformed-authorization-header'],
      [{ token: 'x'.repeat(20_000) }, 'token-too-large'],
    ];
    for (const [connectionParams, reason] of cases) {
      const result = await clerkAuth.authenticate({ connectionParams, request: req({}) });
      expect(result.reason, JSON.stringify(connectionParams).slice(0, 60)).toBe(reason);
      expect(result.auth.isAuthenticated).toBe(false);
    }
  });

  it("a params token must agree with the request's own Authorization header; the request's cookie is not consulted", async () => {
    const other = await issuer.sessionToken({ userId: 'user_other' });
    expect(userOf(await clerkAuth.authenticate({ connectionParams: { token }, request: req({ authorization: `Bearer ${token}` }) }))).toBe('user_header');
    expect((await clerkAuth.authenticate({ connectionParams: { token }, request: req({ authorization: `Bearer ${other}` }) })).reason).toBe('multiple-authorization-headers');
    expect((await clerkAuth.authenticate({ connectionParams: { token }, request: req({ authorization: 'Basic abc' }) })).reason).toBe('multiple-authorization-headers');
    expect((await clerkAuth.authenticate({ connectionParams: { token }, request: { headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } } })).reason).toBe(
      'multiple-authorization-headers',
    );
    // A cookie of another user on the request does not compete with the params token.
    expect(userOf(await clerkAuth.authenticate({ connectionParams: { token }, request: cookieReq(other) }))).toBe('user_header');
  });

  it('with no token in the parameters, reads the request as usual (header, then cookie)', async () => {
    const other = await issuer.sessionToken({ userId: 'user_request' });
    for (const connectionParams of [null, undefined, {}, { token: '' }, { token: null }, { authorization: '  ' }, { headers: null }, { other: token }]) {
      expect(userOf(await clerkAuth.authenticate({ connectionParams, request: req({ authorization: `Bearer ${other}` }) })), JSON.stringify(connectionParams)).toBe('user_request');
      expect(userOf(await clerkAuth.authenticate({ connectionParams, request: cookieReq(other) }))).toBe('user_request');
      expect((await clerkAuth.authenticate({ connectionParams })).reason).toBe('token-missing');
    }
  });
});

describe('plain-object headers (AWS Lambda / API Gateway v1, ALB: names as sent)', () => {
  it('reads Authorization, Cookie, Origin and Host in any case', async () => {
    expect(userOf(await clerkAuth.authenticate({ headers: { Authorization: `Bearer ${token}` } }))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate({ headers: { AUTHORIZATION: `Bearer ${token}` } }))).toBe('user_header');
    const cookie = `__session=${token}; __client_uat=1`;
    expect(userOf(await clerkAuth.authenticate({ headers: { Cookie: cookie, Host: 'api.test', Origin: 'https://api.test' } }))).toBe('user_header');
    expect((await clerkAuth.authenticate({ headers: { Cookie: cookie, Host: 'api.test', Origin: 'https://evil.example' } })).reason).toBe('token-missing');
    expect((await clerkAuth.authenticate({ headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' } })).reason).toBe('token-missing');
  });

  it('the same header under two spellings counts once when both agree, and as two when they differ', async () => {
    const other = await issuer.sessionToken({ userId: 'user_other' });
    expect(userOf(await clerkAuth.authenticate({ headers: { authorization: `Bearer ${token}`, Authorization: `Bearer ${token}` } }))).toBe('user_header');
    expect((await clerkAuth.authenticate({ headers: { authorization: `Bearer ${token}`, Authorization: `Bearer ${other}` } })).reason).toBe('multiple-authorization-headers');
    // Conflicting Origin spellings never pass the same-origin check.
    const cookie = `__session=${token}; __client_uat=1`;
    expect((await clerkAuth.authenticate({ headers: { cookie, host: 'api.test', origin: 'https://api.test', Origin: 'https://evil.example' } })).reason).toBe('token-missing');
  });
});

describe('reading the credential of a Node IncomingMessage from a real node:http server', () => {
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
    expect(userOf(await viaNode([['Cookie', `__session=${token}; __client_uat=1`]]))).toBe('user_header');
  });

  it('checks a connection-params token against the Authorization header of the request it came on', async () => {
    const other = await issuer.sessionToken({ userId: 'user_params' });
    const params = (connectionParams: Record<string, unknown>) => (incoming: IncomingMessage) => ({ connectionParams, request: incoming });
    expect((await viaNode([['Authorization', `Bearer ${token}`]], params({ token: other }))).reason).toBe('multiple-authorization-headers');
    expect(userOf(await viaNode([['Authorization', `Bearer ${token}`]], params({ token })))).toBe('user_header');
    expect(userOf(await viaNode([['Cookie', `__session=${token}; __client_uat=1`]], params({ token: other })))).toBe('user_params');
    expect(userOf(await viaNode([['Cookie', `__session=${token}; __client_uat=1`]], params({})))).toBe('user_header');
  });
});

describe('a bare token string (WebSocket connection params)', () => {
  it('accepts the token alone or with the Bearer scheme', async () => {
    expect(userOf(await clerkAuth.authenticate(token))).toBe('user_header');
    expect(userOf(await clerkAuth.authenticate(`Bearer ${token}`))).toBe('user_header');
  });

  it('never throws, whatever it is given', async () => {
    const hostile: unknown[] = [
      42,
      {},
      { headers: null },
      { headers: { authorization: 42 } },
      [],
      Symbol('x'),
      () => 1,
      new Proxy({}, { get: () => { throw new Error('boom'); } }),
      { connectionParams: new Proxy({}, { ownKeys: () => { throw new Error('boom'); } }) },
      { connectionParams: { token }, request: new Proxy({}, { get: () => { throw new Error('boom'); } }) },
    ];
    for (const input of hostile) {
      const result = await clerkAuth.authenticate(input as never);
      expect(result.auth.isAuthenticated).toBe(false);
      expect(result.reason).not.toBeNull();
    }
  });
});
