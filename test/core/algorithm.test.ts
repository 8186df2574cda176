/**
 * One key, one algorithm: the instance's RSA key verifies RS256 signatures only (or the algorithm its
 * JWK declares). An RS384 or RS512 signature made with that very key is refused, as
 * `@clerk/backend` refuses it, with `token-verification-failed` — with a PEM key and with the JWKS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AcceptsToken, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { decodeJwt, keyAlgorithm, verifySignature, type DecodedJwt } from '../../src/core/jwt.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
});
afterAll(() => api.close());

type Alg = 'RS256' | 'RS384' | 'RS512';
const ALGS: Alg[] = ['RS256', 'RS384', 'RS512'];

/** A session, an M2M and an OAuth token, each signed with `alg` by the instance's key. */
async function tokens(alg: Alg): Promise<Array<[string, string, AcceptsToken]>> {
  const t = now();
  const base = { iss: issuer.issuerUrl, iat: t, nbf: t - 5, exp: t + 600 };
  return [
    ['session', await issuer.sign({ ...base, sub: 'user_1', sid: 'sess_1', v: 2 }, { alg, typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD111AAA' }), 'session_token'],
    ['m2m', await issuer.sign({ ...base, sub: 'mch_1', jti: 'mt_1', aud: ['mch_api'] }, { alg, typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD333AAA' }), 'm2m_token'],
    ['oauth', await issuer.sign({ ...base, sub: 'user_1', client_id: 'client_1', jti: 'oat_1', scope: 'read' }, { alg, typ: 'at+jwt', kid: issuer.kid }), 'oauth_token'],
  ];
}

describe('a key verifies one algorithm', () => {
  const modes: Array<[string, () => ClerkAuth]> = [
    ['PEM (jwtKey)', () => createClerkAuth({ env: {}, jwtKey: issuer.jwtKey })],
    ['JWKS (secretKey)', () => createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl })],
  ];
  for (const [mode, make] of modes) {
    it(`${mode}: RS256 is accepted; RS384 and RS512 signatures by the same key are token-verification-failed`, async () => {
      const clerkAuth = make();
      for (const alg of ALGS) {
        for (const [kind, token, acceptsToken] of await tokens(alg)) {
          const { auth, reason } = await clerkAuth.authenticate(token, { acceptsToken });
          if (alg === 'RS256') {
            expect(reason, `${kind} ${alg}`).toBeNull();
            expect(auth.isAuthenticated).toBe(true);
          } else {
            expect(reason, `${kind} ${alg}`).toBe('token-verification-failed');
            expect(auth.isAuthenticated).toBe(false);
          }
        }
      }
    });
  }

  it('an RS256 signature under an RS384/RS512 header is refused too', async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const t = now();
    for (const alg of ['RS384', 'RS512'] as const) {
      const token = await issuer.sign({ sub: 'user_1', iat: t, nbf: t - 5, exp: t + 600 }, { alg, typ: 'JWT', kid: issuer.kid }, { alg: 'RS256' });
      expect((await clerkAuth.authenticate(token)).reason).toBe('token-verification-failed');
    }
  });
});

describe('verifySignature binds the JWK to its algorithm', () => {
  const signed = async (alg: Alg): Promise<DecodedJwt> => decodeJwt(await issuer.sign({ sub: 'user_1' }, { alg, typ: 'JWT', kid: issuer.kid })) as DecodedJwt;
  const jwk = () => ({ ...(issuer.jwks.keys[0] as JsonWebKey) });

  it('a JWK that declares RS256 verifies RS256 only', async () => {
    const key = jwk();
    expect(key.alg).toBe('RS256');
    expect(await verifySignature(await signed('RS256'), key)).toBeUndefined();
    expect(await verifySignature(await signed('RS384'), key)).toBe('token-verification-failed');
    expect(await verifySignature(await signed('RS512'), key)).toBe('token-verification-failed');
  });

  it('a JWK without alg is bound to RS256 (stricter than @clerk/backend, which then accepts any RS alg)', async () => {
    const { alg: _alg, ...key } = jwk();
    expect(keyAlgorithm(key)).toBe('RS256');
    expect(await verifySignature(await signed('RS256'), key)).toBeUndefined();
    expect(await verifySignature(await signed('RS384'), key)).toBe('token-verification-failed');
    expect(await verifySignature(await signed('RS512'), key)).toBe('token-verification-failed');
  });

  it('a JWK that declares RS512 verifies RS512 only', async () => {
    const key = { ...jwk(), alg: 'RS512' };
    expect(await verifySignature(await signed('RS512'), key)).toBeUndefined();
    expect(await verifySignature(await signed('RS256'), key)).toBe('token-verification-failed');
    expect(await verifySignature(await signed('RS384'), key)).toBe('token-verification-failed');
  });

  it('a JWK that declares an algorithm we do not verify verifies nothing', async () => {
    const key = { ...jwk(), alg: 'PS256' };
    for (const alg of ALGS) expect(await verifySignature(await signed(alg), key), alg).toBe('token-verification-failed');
  });

  it('a wrong signature for the right algorithm is still token-invalid-signature', async () => {
    const good = await signed('RS256');
    const forged = { ...good, signature: good.signature.map((byte, i) => (i === 10 ? byte ^ 1 : byte)) };
    expect(await verifySignature(forged, jwk())).toBe('token-invalid-signature');
  });
});
