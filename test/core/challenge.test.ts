/** The one mapping from denials to HTTP status and headers, and its precedence (pure logic, in-process). */
import { describe, expect, it } from 'vitest';
import { ClerkApiUnavailableError, ForbiddenError, InvalidRequestError, UnauthenticatedError, challengeOf, isClerkAuthError } from 'clerk-api-auth';
import { ResponseChallenge, denialRank, strongestDenial } from '../../src/core/internal.js';

const missing = new UnauthenticatedError('token-missing');
const expired = new UnauthenticatedError('token-expired');
const forbidden = new ForbiddenError(['role']);
const doubled = new InvalidRequestError('multiple-authorization-headers');
const down = new ClerkApiUnavailableError();

describe('challengeOf', () => {
  it('maps each denial to its status and RFC 6750 header', () => {
    expect(challengeOf(missing)).toEqual({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    expect(challengeOf(expired)).toEqual({ status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="token-expired"' } });
    expect(challengeOf(forbidden)).toEqual({ status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } });
    expect(challengeOf(doubled)).toEqual({
      status: 400,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_request", error_description="multiple-authorization-headers"' },
    });
    expect(challengeOf(down)).toEqual({ status: 503, headers: { 'Retry-After': '1' } });
    expect(challengeOf(new ClerkApiUnavailableError('clerk-api-unavailable', 7.2))).toEqual({ status: 503, headers: { 'Retry-After': '8' } });
  });

  it('one precedence: 503 > 400 > 401 > 403, and a 401 challenge is never replaced by a 403 one', () => {
    expect(challengeOf([forbidden, expired])).toEqual(challengeOf(expired));
    expect(challengeOf([expired, forbidden])).toEqual(challengeOf(expired));
    expect(challengeOf([forbidden, doubled, expired]).status).toBe(400);
    // Clerk unreachable speaks for the status; the strongest challenge still goes along.
    expect(challengeOf([forbidden, down])).toEqual({ status: 503, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"', 'Retry-After': '1' } });
    expect([down, doubled, expired, forbidden].map(denialRank)).toEqual([0, 1, 2, 3]);
    expect(strongestDenial([forbidden, missing, expired])).toBe(missing);
    expect(strongestDenial([])).toBeUndefined();
  });

  it('ResponseChallenge accumulates a batch’s denials in any order', () => {
    const challenge = new ResponseChallenge();
    expect(challenge.challenge).toBeNull();
    expect(challenge.add(forbidden).status).toBe(403);
    expect(challenge.add(expired)).toEqual(challengeOf(expired));
    expect(challenge.add(forbidden)).toEqual(challengeOf(expired));
  });

  it('recognises errors by code, so a copy from another build maps the same', () => {
    // What an error from the other (CJS vs ESM) build looks like to this one: same shape, other class.
    const foreign = Object.assign(new Error('x'), { code: 'UNAUTHENTICATED', status: 401, reason: 'token-expired', wwwAuthenticate: expired.wwwAuthenticate });
    expect(foreign instanceof UnauthenticatedError).toBe(false);
    expect(isClerkAuthError(foreign)).toBe(true);
    expect(challengeOf(foreign as unknown as UnauthenticatedError)).toEqual(challengeOf(expired));
    expect(isClerkAuthError({ code: 'SOMETHING_ELSE', status: 1 })).toBe(false);
    expect(isClerkAuthError(null)).toBe(false);
  });
});
