import type { ClerkClient } from '@clerk/backend';
import { authenticatedMachineObject } from '@clerk/backend/internal';
import { signedOutFor } from './accepted-auth.js';
import { sessionAuthObject } from './auth-object.js';
import { ConcurrencyLimiter } from './concurrency.js';
import { isToken68 } from './credentials.js';
import type { KeyResolver } from './jwks.js';
import { checkClaims, checkHeader, decodeJwt, validUntil, verifySignature, type ClaimChecks, type DecodedJwt } from './jwt.js';
import { oauthAudienceMatches, opaqueVerificationKey, verifyOpaqueToken, type OpaqueVerification } from './machine-verification.js';
import { accepts, type ResolvedOptions } from './options.js';
import { SignedOutReason } from './reasons.js';
import { RejectedTokenCache } from './rejected-tokens.js';
import { m2mJwtScopes, oauthJwtScopes } from './scopes.js';
import type { VerifiedTokenCache } from './token-cache.js';
import type { AcceptsToken, AuthenticateResult, MachineTokenType, TokenKind } from './types.js';

// Clerk's JWT categories (`cat` header) and machine-token markers, as @clerk/backend defines them.
const CAT_SESSION = 'cl_B7d4PD111AAA';
const CAT_IGNORE = 'cl_I7d4PD111III';
const CAT_M2M = 'cl_B7d4PD333AAA';
const OAUTH_JWT_TYPES = ['at+jwt', 'application/at+jwt'];
const OPAQUE_PREFIXES: ReadonlyArray<[string, MachineTokenType]> = [
  ['mt_', 'm2m_token'],
  ['oat_', 'oauth_token'],
  ['ak_', 'api_key'],
];
const JWT_FORMAT = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

type Classified =
  | { kind: TokenKind; decoded: DecodedJwt }
  | { kind: MachineTokenType; decoded: null }
  | { invalid: SignedOutReason };

type Verified = { payload: Record<string, unknown> } | { reason: SignedOutReason };
/** A Backend API verification of an opaque token: the result, or why it failed (for any `acceptsToken`). */
type OpaqueOutcome = { result: AuthenticateResult } | { reason: SignedOutReason };
const OVERLOADED: OpaqueVerification = { reason: SignedOutReason.ClerkApiUnavailable, definite: false };

/**
 * The signed-out result for a call that accepts `acceptsToken`, with Clerk's auth object for it
 * (`authObjectFor`): the presented kind's signed-out object where accepted, the accepted kind's for a
 * single kind, `tokenType: null` for a list that excludes the presented kind. `presented` is `null`
 * when no kind is known (no token, or one that is not a token at all), which Clerk treats as a session.
 *
 * @internal
 */
export function signedOut(reason: SignedOutReason, acceptsToken: AcceptsToken, sessionStatus?: 'pending', presented: TokenKind | null = null): AuthenticateResult {
  return signedOutFor(reason, acceptsToken, presented, sessionStatus);
}

/** Sorts a token into session / machine (JWT or opaque) the way `@clerk/backend` does, decoding it once. */
function classify(token: string): Classified {
  for (const [prefix, kind] of OPAQUE_PREFIXES) {
    if (token.startsWith(prefix)) return { kind, decoded: null };
  }
  if (!JWT_FORMAT.test(token)) return { invalid: SignedOutReason.TokenInvalid };
  const decoded = decodeJwt(token);
  if (!decoded) return { invalid: SignedOutReason.TokenInvalid };
  const { header, payload } = decoded;
  if (typeof payload.sub === 'string' && payload.sub.startsWith('mch_')) return { kind: 'm2m_token', decoded };
  if (typeof header.typ === 'string' && OAUTH_JWT_TYPES.includes(header.typ)) return { kind: 'oauth_token', decoded };
  if (header.cat !== undefined && header.cat !== CAT_SESSION && header.cat !== CAT_IGNORE) return { invalid: SignedOutReason.TokenTypeMismatch };
  return { kind: 'session_token', decoded };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Verifies one token into an auth result. Never throws. Successful JWT verifications are cached
 * (see `VerifiedTokenCache`); the auth objects handed out are frozen, so sharing one between requests
 * that present the same token is safe.
 *
 * @internal
 */
export class TokenVerifier {
  private readonly sessionChecks: ClaimChecks;
  /** Opaque tokens the Backend API definitely rejected, remembered briefly. */
  private readonly rejected: RejectedTokenCache;
  /** Caps this instance's Backend API verifications in flight. */
  private readonly verifications: ConcurrencyLimiter;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly keys: KeyResolver,
    private readonly cache: VerifiedTokenCache | undefined,
    private readonly clerk: ClerkClient,
  ) {
    this.sessionChecks = {
      audience: options.audience,
      authorizedParties: options.authorizedParties,
      issuer: options.issuer,
      clockSkewInMs: options.clockSkewInMs,
    };
    const bounds = options.machineTokens;
    this.rejected = new RejectedTokenCache({ ttlMs: bounds.rejectedTtlMs, maxEntries: bounds.rejectedMaxEntries });
    this.verifications = new ConcurrencyLimiter({
      maxConcurrent: bounds.maxConcurrentVerifications,
      maxQueued: bounds.maxQueuedVerifications,
      maxWaitMs: options.apiTimeoutMs,
    });
  }

  /**
   * A token verified before and still cached settles at once, without a promise (nearly every
   * request: clients resend one token for its whole life); any other is verified asynchronously.
   */
  verify(token: string, acceptsToken: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    const hit = this.cache?.get(token, Date.now());
    if (hit !== undefined) return accepts(acceptsToken, hit.kind) ? hit.result : signedOut(SignedOutReason.TokenTypeMismatch, acceptsToken, undefined, hit.kind);
    // What needs no key or call is decided at once: a token that is not a token68, not a token at all,
    // or of a kind the call does not accept (an opaque machine token where only sessions count).
    let classified: Classified;
    try {
      // One credential whose characters are not a token68 is a token that fails (401), like any other bad token.
      if (!isToken68(token)) return signedOut(SignedOutReason.TokenInvalid, acceptsToken);
      classified = classify(token);
    } catch {
      return signedOut(SignedOutReason.TokenInvalid, acceptsToken);
    }
    if ('invalid' in classified) return signedOut(classified.invalid, acceptsToken);
    if (!accepts(acceptsToken, classified.kind)) return signedOut(SignedOutReason.TokenTypeMismatch, acceptsToken, undefined, classified.kind);
    return this.verifyFresh(token, classified, acceptsToken);
  }

  private async verifyFresh(token: string, classified: Exclude<Classified, { invalid: SignedOutReason }>, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    try {
      if (classified.decoded === null) return await this.verifyOpaque(token, classified.kind as MachineTokenType, acceptsToken);
      if (classified.kind === 'session_token') return await this.verifySession(token, classified.decoded, acceptsToken);
      return await this.verifyMachineJwt(token, classified.kind, classified.decoded, acceptsToken);
    } catch {
      return signedOut(SignedOutReason.TokenInvalid, acceptsToken, undefined, classified.kind);
    }
  }

  /** Key, header, signature, then claims: the order `@clerk/backend` checks them in. */
  private async verifyJwt(decoded: DecodedJwt, checks: ClaimChecks, headerTypes?: readonly string[]): Promise<Verified> {
    const kid = decoded.header.kid;
    const found = await this.keys.resolve(typeof kid === 'string' ? kid : undefined);
    if ('failure' in found) return { reason: found.failure };
    const headerProblem = checkHeader(decoded.header, headerTypes);
    if (headerProblem) return { reason: headerProblem };
    const signatureProblem = await verifySignature(decoded, found.key);
    if (signatureProblem) return { reason: signatureProblem };
    const claimProblem = checkClaims(decoded.payload, checks);
    if (claimProblem) return { reason: claimProblem };
    return { payload: decoded.payload };
  }

  private remember(token: string, auth: AuthenticateResult['auth'], kind: TokenKind, payload: Record<string, unknown>): AuthenticateResult {
    const expiresAt = validUntil(payload, this.options.clockSkewInMs);
    const result: AuthenticateResult = Number.isFinite(expiresAt) ? { auth: deepFreeze(auth), reason: null, expiresAt } : { auth: deepFreeze(auth), reason: null };
    this.cache?.set(token, result, kind, expiresAt);
    return result;
  }

  private async verifySession(token: string, decoded: DecodedJwt, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    const verified = await this.verifyJwt(decoded, this.sessionChecks);
    if ('reason' in verified) return signedOut(verified.reason, acceptsToken);
    const claims = verified.payload;
    if (claims.sts === 'pending') return signedOut(SignedOutReason.SessionPending, acceptsToken, 'pending');
    const auth = sessionAuthObject(token, claims, this.clerk);
    return this.remember(token, auth, 'session_token', claims);
  }

  private async verifyMachineJwt(token: string, kind: TokenKind, decoded: DecodedJwt, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    if (kind === 'm2m_token' && decoded.header.cat !== undefined && decoded.header.cat !== CAT_M2M) return signedOut(SignedOutReason.TokenInvalid, acceptsToken, undefined, kind);
    const checks: ClaimChecks = { clockSkewInMs: this.options.clockSkewInMs, audience: kind === 'm2m_token' ? this.options.audience : undefined };
    const verified = await this.verifyJwt(decoded, checks, kind === 'oauth_token' ? OAUTH_JWT_TYPES : undefined);
    if ('reason' in verified) return signedOut(verified.reason, acceptsToken, undefined, kind);
    const p = verified.payload;
    if (kind === 'oauth_token' && !oauthAudienceMatches(p.aud, this.options.audience)) return signedOut(SignedOutReason.TokenVerificationFailed, acceptsToken, undefined, kind);
    // The verification result @clerk/backend builds from a machine JWT (M2MToken / IdPOAuthAccessToken.fromJwtPayload),
    // with scopes always a list of whole values.
    const scopes = kind === 'm2m_token' ? m2mJwtScopes(p) : oauthJwtScopes(p);
    if (scopes === undefined) return signedOut(SignedOutReason.TokenInvalid, acceptsToken, undefined, kind);
    const data =
      kind === 'm2m_token'
        ? { id: str(p.jti), subject: str(p.sub), scopes, claims: customClaims(p) }
        : { id: str(p.jti), subject: str(p.sub), clientId: str(p.client_id), scopes };
    const auth = authenticatedMachineObject(kind as MachineTokenType, token, data as never);
    return this.remember(token, auth, kind, p);
  }

  /** Opaque verifications in flight, by token: concurrent requests presenting one token share one Backend API call. */
  private readonly opaqueInFlight = new Map<string, Promise<OpaqueOutcome>>();

  /**
   * Opaque tokens are verified by the Backend API (accepted ones on every request, never cached:
   * revocation takes effect at once). Concurrent requests with the same token wait for one call; a
   * definite rejection is remembered for `machineTokens.rejectedTtlMs`; calls beyond
   * `machineTokens.maxConcurrentVerifications` queue, and a full queue or a too-long wait is
   * `clerk-api-unavailable`.
   */
  private async verifyOpaque(token: string, kind: MachineTokenType, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    if (!opaqueVerificationKey(kind, this.options)) return signedOut(SignedOutReason.SecretKeyRequired, acceptsToken, undefined, kind);
    // Joined before the first await, so requests arriving in the same tick share one verification.
    let pending = this.opaqueInFlight.get(token);
    if (pending === undefined) {
      pending = this.verifyOpaqueOnce(token, kind).finally(() => this.opaqueInFlight.delete(token));
      this.opaqueInFlight.set(token, pending);
    }
    const verified = await pending;
    return 'reason' in verified ? signedOut(verified.reason, acceptsToken, undefined, kind) : verified.result;
  }

  /** A remembered rejection, else one Backend API call. */
  private async verifyOpaqueOnce(token: string, kind: MachineTokenType): Promise<OpaqueOutcome> {
    const rejectedKey = this.rejected.enabled ? await this.rejected.keyOf(token) : undefined;
    const remembered = rejectedKey === undefined ? undefined : this.rejected.get(rejectedKey);
    if (remembered !== undefined) return { reason: remembered };
    return this.askBackendApi(token, kind, rejectedKey);
  }


  /** One Backend API verification of an opaque token, within the concurrency cap; aborted after `apiTimeoutMs`. */
  private async askBackendApi(token: string, kind: MachineTokenType, rejectedKey: string | undefined): Promise<OpaqueOutcome> {
    const o = this.options;
    const outcome = await this.verifications.run(
      () => verifyOpaqueToken(token, kind, { apiUrl: o.apiUrl, secretKey: o.secretKey, machineSecretKey: o.machineSecretKey, audience: o.audience, timeoutMs: o.apiTimeoutMs }),
      OVERLOADED,
    );
    if ('reason' in outcome) {
      if (outcome.definite && rejectedKey !== undefined) this.rejected.set(rejectedKey, outcome.reason);
      return { reason: outcome.reason };
    }
    const auth = deepFreeze(authenticatedMachineObject(kind, token, outcome.data));
    const expiration = outcome.data.expiration;
    return { result: typeof expiration === 'number' && Number.isFinite(expiration) ? { auth, reason: null, expiresAt: expiration } : { auth, reason: null } };
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const RESERVED_M2M_CLAIMS = new Set(['iss', 'sub', 'exp', 'nbf', 'iat', 'jti']);
function customClaims(payload: Record<string, unknown>): Record<string, unknown> | null {
  const claims: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) if (!RESERVED_M2M_CLAIMS.has(key)) claims[key] = value;
  return Object.keys(claims).length > 0 ? claims : null;
}
