import { generateKeyPairSync, createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let other: TestIssuer;
let clerkAuth: ClerkAuth;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  [issuer, other] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
});

function signedIn(result: AuthenticateResult) {
  expect(result.reason).toBeNull();
  const { auth } = result;
  if (auth.tokenType !== 'session_token' || !auth.isAuthenticated) throw new Error('expected a signed-in session');
  return auth;
}

async function reasonOf(token: string, auth = clerkAuth): Promise<string | null> {
  const result = await auth.authenticate(token);
  if (result.reason !== null) {
    expect(result.auth.isAuthenticated).toBe(false);
    expect(result.auth.tokenType).toBe('session_token');
    if (result.auth.tokenType === 'session_token') expect(result.auth.userId).toBeNull();
  }
  return result.reason;
}

describe('a valid session token', () => {
  it('yields Clerk’s signed-in auth object with every field exact (v2 claims)', async () => {
    const token = await issuer.sessionToken({
      userId: 'user_ada',
      sessionId: 'sess_1',
      org: { id: 'org_1', slug: 'acme', role: 'admin', permissions: ['org:notes:create', 'org:notes:read', 'org:billing:manage'] },
      features: ['u:export'],
      plans: ['u:pro'],
      factorVerificationAge: [3, 7],
      actor: { sub: 'user_support' },
      claims: { metadata: { role: 'editor' } },
    });
    const auth = signedIn(await clerkAuth.authenticate(token));
    expect(auth.userId).toBe('user_ada');
    expect(auth.sessionId).toBe('sess_1');
    expect(auth.sessionStatus).toBe('active');
    expect(auth.orgId).toBe('org_1');
    expect(auth.orgSlug).toBe('acme');
    expect(auth.orgRole).toBe('org:admin');
    expect(auth.orgPermissions).toEqual(['org:notes:create', 'org:notes:read', 'org:billing:manage']);
    expect(auth.factorVerificationAge).toEqual([3, 7]);
    expect(auth.actor).toEqual({ sub: 'user_support' });
    expect(auth.sessionClaims.metadata).toEqual({ role: 'editor' });
    expect(auth.sessionClaims.iss).toBe(issuer.issuerUrl);
    expect(await auth.getToken()).toBe(token);
    expect(auth.isAuthenticated).toBe(true);
  });

  it('has() answers Clerk’s way on v2 organization, feature and plan claims', async () => {
    const auth = signedIn(
      await clerkAuth.authenticate(
        await issuer.sessionToken({
          org: { id: 'org_1', role: 'member', permissions: ['org:notes:read', 'org:notes:create', 'org:reports:read'] },
          features: ['u:export'],
          plans: ['u:pro'],
        }),
      ),
    );
    expect(auth.has({ role: 'org:member' })).toBe(true);
    expect(auth.has({ role: 'org:admin' })).toBe(false);
    expect(auth.has({ permission: 'org:notes:create' })).toBe(true);
    expect(auth.has({ permission: 'org:reports:read' })).toBe(true);
    expect(auth.has({ permission: 'org:reports:create' })).toBe(false);
    expect(auth.has({ feature: 'export' })).toBe(true);
    expect(auth.has({ feature: 'u:export' })).toBe(true);
    expect(auth.has({ feature: 'o:export' })).toBe(false);
    expect(auth.has({ feature: 'notes' })).toBe(true); // org feature derived from permissions
    expect(auth.has({ plan: 'pro' })).toBe(true);
    expect(auth.has({ plan: 'enterprise' })).toBe(false);
    expect(auth.has({ reverification: 'strict' })).toBe(true); // fva [0, -1]
    expect(auth.has({})).toBe(false); // Clerk's own semantics
  });

  it('v1 (legacy) organization claims work too', async () => {
    const auth = signedIn(
      await clerkAuth.authenticate(await issuer.sessionToken({ claimsVersion: 1, org: { id: 'org_9', role: 'admin', permissions: ['org:x:y'] } })),
    );
    expect(auth.orgId).toBe('org_9');
    expect(auth.orgRole).toBe('org:admin');
    expect(auth.has({ permission: 'org:x:y' })).toBe(true);
  });

  it('is accepted within the default 5 s clock skew and refused beyond it', async () => {
    expect(await reasonOf(await issuer.sessionToken({ expiresInSeconds: -3 }))).toBeNull();
    expect(await reasonOf(await issuer.sessionToken({ expiresInSeconds: -30 }))).toBe('token-expired');
    const strict = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, clockSkewInMs: 0 });
    expect(await reasonOf(await issuer.sessionToken({ expiresInSeconds: -3 }), strict)).toBe('token-expired');
  });
});

describe('signed out, with the right reason', () => {
  it('no token', async () => {
    for (const input of [null, undefined, '', new Request('http://api.test/')]) {
      const result = await clerkAuth.authenticate(input);
      expect(result.reason).toBe('token-missing');
      expect(result.auth.isAuthenticated).toBe(false);
    }
  });

  it('expired, not yet valid, issued in the future', async () => {
    expect(await reasonOf(await issuer.sessionToken({ expiresInSeconds: -3600 }))).toBe('token-expired');
    expect(await reasonOf(await issuer.sessionToken({ notBeforeOffsetSeconds: 120 }))).toBe('token-not-active-yet');
    expect(await reasonOf(await issuer.sessionToken({ issuedAtOffsetSeconds: 120, notBeforeOffsetSeconds: -5 }))).toBe('token-iat-in-the-future');
  });

  it('signed by another key, or tampered with', async () => {
    expect(await reasonOf(await other.sessionToken())).toBe('token-invalid-signature');
    const [h, , s] = (await issuer.sessionToken({ userId: 'user_low' })).split('.');
    const forged = b64({ sub: 'user_admin', sid: 'sess_x', iat: now(), nbf: now() - 5, exp: now() + 60, v: 2 });
    expect(await reasonOf(`${h}.${forged}.${s}`)).toBe('token-invalid-signature');
  });

  it('alg none, HS256 keyed with the public key, and other algorithms', async () => {
    const payload = b64({ sub: 'user_admin', sid: 'sess_x', iat: now(), nbf: now() - 5, exp: now() + 60 });
    const none = `${b64({ alg: 'none', typ: 'JWT', kid: issuer.kid })}.${payload}.`;
    expect(await reasonOf(none)).toBe('token-invalid');
    const noneWithSig = `${b64({ alg: 'none', typ: 'JWT', kid: issuer.kid })}.${payload}.AAAA`;
    expect(await reasonOf(noneWithSig)).toBe('token-invalid-algorithm');
    const hsHeader = b64({ alg: 'HS256', typ: 'JWT', kid: issuer.kid });
    const hsSig = createHmac('sha256', issuer.jwtKey).update(`${hsHeader}.${payload}`).digest('base64url');
    expect(await reasonOf(`${hsHeader}.${payload}.${hsSig}`)).toBe('token-invalid-algorithm');
    const ps = await issuer.sign({ sub: 'user_1', iat: now(), exp: now() + 60 }, { alg: 'PS256', typ: 'JWT', kid: issuer.kid });
    expect(await reasonOf(ps)).toBe('token-invalid-algorithm');
  });

  it('wrong or missing azp when authorized parties are set', async () => {
    const strict = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, authorizedParties: ['https://app.example.com'] });
    expect(await reasonOf(await issuer.sessionToken({ azp: 'https://app.example.com' }), strict)).toBeNull();
    expect(await reasonOf(await issuer.sessionToken({ azp: 'https://evil.example.com' }), strict)).toBe('token-invalid-authorized-parties');
    expect(await reasonOf(await issuer.sessionToken({ azp: null }), strict)).toBe('token-invalid-authorized-parties');
    // Without configured parties, azp is not checked (as in @clerk/backend).
    expect(await reasonOf(await issuer.sessionToken({ azp: 'https://evil.example.com' }))).toBeNull();
  });

  it('wrong issuer or audience when configured', async () => {
    const byIssuer = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, issuer: 'https://clerk.other.test' });
    expect(await reasonOf(await issuer.sessionToken(), byIssuer)).toBe('token-invalid-issuer');
    const byAudience = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, audience: 'api://notes' });
    expect(await reasonOf(await issuer.sessionToken({ claims: { aud: 'api://other' } }), byAudience)).toBe('token-verification-failed');
    expect(await reasonOf(await issuer.sessionToken({ claims: { aud: 'api://notes' } }), byAudience)).toBeNull();
  });

  it('garbage, truncated, non-JSON and wrongly-typed tokens', async () => {
    const valid = await issuer.sessionToken();
    for (const garbage of ['abc', 'a.b', 'a.b.c', valid.slice(0, -10), `${valid}.extra`, 'e30.e30.e30', `${b64('not an object')}.${b64({})}.AA`, '%%%.%%%.%%%']) {
      const reason = await reasonOf(garbage);
      expect(reason, garbage).not.toBeNull();
    }
    const notJson = `${Buffer.from('{oops').toString('base64url')}.${b64({ sub: 'x' })}.AAAA`;
    expect(await reasonOf(notJson)).toBe('token-invalid');
  });

  it('missing sub', async () => {
    expect(await reasonOf(await issuer.sign({ sid: 'sess_1', iat: now(), nbf: now() - 5, exp: now() + 60 }))).toBe('token-verification-failed');
  });

  it('a machine token where a session is expected', async () => {
    expect(await reasonOf(await issuer.m2mToken())).toBe('token-type-mismatch');
    expect(await reasonOf(await issuer.oauthToken())).toBe('token-type-mismatch');
    expect(await reasonOf(issuer.apiKey().token)).toBe('token-type-mismatch');
    expect(await reasonOf(await issuer.sign({ sub: 'user_1', iat: now(), exp: now() + 60 }, { alg: 'RS256', typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD222AAA' }))).toBe(
      'token-type-mismatch',
    );
  });

  it('a pending session is signed out (Clerk’s treatPendingAsSignedOut default)', async () => {
    const result = await clerkAuth.authenticate(await issuer.sessionToken({ status: 'pending' }));
    expect(result.reason).toBe('session-pending');
    expect(result.auth.isAuthenticated).toBe(false);
    expect(result.auth.tokenType === 'session_token' && result.auth.sessionStatus).toBe('pending');
  });

  it('a token signed with a key Clerk does not use (RSA key of another issuer via JWK spoofing in the header)', async () => {
    const rogue = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = rogue.publicKey.export({ format: 'jwk' });
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: issuer.kid, jwk });
    const payload = b64({ sub: 'user_admin', iat: now(), nbf: now() - 5, exp: now() + 60 });
    const { createSign } = await import('node:crypto');
    const sig = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(rogue.privateKey).toString('base64url');
    expect(await reasonOf(`${header}.${payload}.${sig}`)).toBe('token-invalid-signature');
  });
});

describe('one spelling per token', () => {
  it('refuses a signature whose last character differs only in unused bits (as @clerk/backend does)', async () => {
    const token = await issuer.sessionToken();
    const last = token.at(-1) as string;
    // 342 base64url characters carry 2052 bits for 2048: the last character's low 4 bits are unused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const malleable = token.slice(0, -1) + sibling;
    expect(await reasonOf(token)).toBeNull();
    expect(await reasonOf(malleable)).toBe('token-invalid');
  });
});
