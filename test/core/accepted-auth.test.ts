/**
 * `authObjectFor`: the signed-out auth object of a call, as @clerk/backend's
 * `getAuthObjectForAcceptedToken` gives it (its request-level counterpart is checked against
 * `authenticateRequest` in request-differential.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { AcceptsToken, TokenKind } from 'clerk-api-auth';
import { authObjectFor, signedOutFor } from '../../src/core/accepted-auth.js';
import { presentedKind } from '../../src/core/token-kind.js';

const KINDS: TokenKind[] = ['session_token', 'm2m_token', 'oauth_token', 'api_key'];
const ACCEPTS: AcceptsToken[] = ['any', ...KINDS, ['session_token', 'm2m_token'], ['api_key', 'oauth_token'], ['m2m_token'], [...KINDS]];

/** The rule, as the brief of the auth object states it. */
function expectedType(acceptsToken: AcceptsToken, presented: TokenKind | null): TokenKind | null {
  const kind = presented ?? 'session_token';
  if (acceptsToken === 'any') return kind;
  if (typeof acceptsToken === 'string') return acceptsToken;
  return acceptsToken.includes(kind) ? kind : null;
}

describe('authObjectFor', () => {
  it('gives the accepted kind’s signed-out object, or tokenType null for a list without the presented kind', () => {
    for (const acceptsToken of ACCEPTS) {
      for (const presented of [null, ...KINDS]) {
        const auth = authObjectFor(acceptsToken, presented);
        const label = `${JSON.stringify(acceptsToken)} / ${presented}`;
        expect(auth.isAuthenticated, label).toBe(false);
        expect(auth.tokenType, label).toBe(expectedType(acceptsToken, presented));
        if (auth.tokenType !== null && auth.tokenType !== 'session_token') {
          expect(auth, label).toMatchObject({ id: null, subject: null, scopes: null });
        }
        if (auth.tokenType === 'session_token') expect(auth, label).toMatchObject({ userId: null, sessionId: null });
        expect(auth.has({ role: 'org:admin' } as never), label).toBe(false);
      }
    }
  });

  it('never builds an object of a kind nobody sent', () => {
    // A list of machine kinds and a session (or nothing) presented: Clerk's invalid-token object.
    expect(authObjectFor(['api_key', 'oauth_token'], 'session_token').tokenType).toBeNull();
    expect(authObjectFor(['api_key', 'oauth_token'], null).tokenType).toBeNull();
    // 'any' with an M2M token presented: the M2M object, not a session's.
    expect(authObjectFor('any', 'm2m_token').tokenType).toBe('m2m_token');
    expect(authObjectFor(['session_token', 'api_key'], 'oauth_token').tokenType).toBeNull();
    expect(authObjectFor('api_key', 'm2m_token').tokenType).toBe('api_key');
    expect(authObjectFor('session_token', 'oauth_token').tokenType).toBe('session_token');
  });

  it('keeps a pending session’s status where sessions are accepted', () => {
    expect(authObjectFor('session_token', 'session_token', 'pending')).toMatchObject({ tokenType: 'session_token', sessionStatus: 'pending' });
    expect(authObjectFor(['session_token', 'api_key'], 'session_token', 'pending')).toMatchObject({ sessionStatus: 'pending' });
    expect(authObjectFor('m2m_token', 'session_token', 'pending').tokenType).toBe('m2m_token');
    expect(signedOutFor('session-pending', 'any', 'session_token', 'pending')).toMatchObject({ reason: 'session-pending', auth: { sessionStatus: 'pending' } });
  });
});

describe('presentedKind', () => {
  it('sorts tokens as @clerk/backend does', async () => {
    const { createTestIssuer } = await import('clerk-api-auth/testing');
    const issuer = await createTestIssuer();
    expect(presentedKind(await issuer.sessionToken())).toBe('session_token');
    expect(presentedKind(await issuer.m2mToken())).toBe('m2m_token');
    expect(presentedKind(await issuer.oauthToken())).toBe('oauth_token');
    expect(presentedKind(issuer.apiKey().token)).toBe('api_key');
    expect(presentedKind(issuer.opaqueM2mToken().token)).toBe('m2m_token');
    expect(presentedKind('oat_abc')).toBe('oauth_token');
    expect(presentedKind('garbage')).toBe('session_token');
    // An M2M subject wins over the prefix order, as in Clerk's getMachineTokenType.
    expect(presentedKind(await issuer.sign({ sub: 'mch_1', exp: 1 }, { alg: 'RS256', typ: 'at+jwt' }))).toBe('m2m_token');
  });
});
