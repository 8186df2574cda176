import type { ClerkClient } from '@clerk/backend';
import { authenticatedMachineObject } from '@clerk/backend/internal';
import { signedOutFor } from './accepted-auth.js';
import { sessionAuthObject } from './auth-object.js';
import { ConcurrencyLimiter } from './concurrency.js';
import { hasWhitespace, isToken68 } from './credentials.js';
import type { KeyLookup, KeyResolver } from './jwks.js';
import { checkClaims, checkHeader, decodeJwt, validUntil, verifySignature, type ClaimChecks, type DecodedJwt } from './jwt.js';
import { oauthAudienceMatches, opaqueVerificationKey, verifyOpaqueToken, type MachineVerificationResult, type OpaqueVerification } from './machine-verification.js';
import { createMemoryStore } from './memory-store.js';
import { zeroCounters, type MachineTokenCounters, type MachineTokenMetrics } from './metrics.js';
import { accepts, type ResolvedOptions } from './options.js';
import { SignedOutReason } from './reasons.js';
import { m2mJwtScopes, oauthJwtScopes } from './scopes.js';
import { SharedVerifications } from './shared-verifications.js';
import { StoreSeal } from './store-seal.js';
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
/**
 * What is known about an opaque token: Clerk's verification result, or why there is none — `definite`
 * when it is about the token itself (the only rejections ever stored), `retryAfterSeconds` on a 429.
 */
type OpaqueOutcome = { data: MachineVerificationResult } | { reason: SignedOutReason; definite?: boolean; retryAfterSeconds?: number };
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
  /** Opaque verifications shared through the store (the given one, or this instance's in-memory one); `undefined` when neither TTL is on. */
  private readonly shared: SharedVerifications | undefined;
  /** Caps this instance's Backend API verifications in flight. */
  private readonly verifications: ConcurrencyLimiter;
  private readonly counters: MachineTokenCounters = zeroCounters();
  /** Until when (ms since the epoch) Clerk asked this instance to stop verifying (a 429's `Retry-After`). */
  private rateLimitedUntil = 0;

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
    const secret = [options.secretKey, options.machineSecretKey].filter(Boolean).join('\n');
    if (secret && (bounds.acceptedTtlMs > 0 || bounds.rejectedTtlMs > 0)) {
      const seal = StoreSeal.derive(secret, 'machine-tokens');
      // Derivation does not fail with a valid secret; if it ever did, every store call would be a miss.
      seal.catch(() => {});
      this.shared = new SharedVerifications(
        options.store ?? createMemoryStore({ maxEntries: bounds.rejectedMaxEntries }),
        seal,
        {
          acceptedTtlMs: bounds.acceptedTtlMs,
          rejectedTtlMs: bounds.rejectedTtlMs,
          timeoutMs: bounds.storeTimeoutMs,
          // This instance's own concurrent requests already share one call: a lock only helps across instances.
          sharedWaitMs: options.store === undefined ? 0 : bounds.sharedWaitMs,
          // The holder may wait for a slot and then for the call, each up to apiTimeoutMs, then store its answer.
          lockTtlMs: 2 * options.apiTimeoutMs + bounds.storeTimeoutMs + 100,
          context: JSON.stringify(options.audience ?? null),
        },
        this.counters,
      );
    }
    this.verifications = new ConcurrencyLimiter({
      maxConcurrent: bounds.maxConcurrentVerifications,
      maxQueued: bounds.maxQueuedVerifications,
      maxWaitMs: options.apiTimeoutMs,
    });
  }

  /**
   * A token verified before and still cached settles at once, without a promise (nearly every
   * request: clients resend one token for its whole life), and so does a token refused before any
   * signature check. Anything else (a signature to check, an opaque token, a key still to fetch) is
   * verified asynchronously.
   */
  verify(token: string, acceptsToken: AcceptsToken, unscanned = false): AuthenticateResult | Promise<AuthenticateResult> {
    const hit = this.cache?.get(token, Date.now());
    if (hit !== undefined) return accepts(acceptsToken, hit.kind) ? hit.result : signedOut(SignedOutReason.TokenTypeMismatch, acceptsToken, undefined, hit.kind);
    // `Bearer a b`: not a token that fails, a header that is malformed (see `Credential.unscanned`).
    if (unscanned && hasWhitespace(token)) return signedOut(SignedOutReason.MalformedAuthorizationHeader, acceptsToken);
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

  private verifyFresh(token: string, classified: Exclude<Classified, { invalid: SignedOutReason }>, acceptsToken: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    const failed = (): AuthenticateResult => signedOut(SignedOutReason.TokenInvalid, acceptsToken, undefined, classified.kind);
    try {
      const result =
        classified.decoded === null
          ? this.verifyOpaque(token, classified.kind as MachineTokenType, acceptsToken)
          : classified.kind === 'session_token'
            ? this.verifySession(token, classified.decoded, acceptsToken)
            : this.verifyMachineJwt(token, classified.kind, classified.decoded, acceptsToken);
      return result instanceof Promise ? result.catch(failed) : result;
    } catch {
      return failed();
    }
  }

  /**
   * Key, header, signature, then claims: the order `@clerk/backend` checks them in. What fails before
   * the signature (no key for the kid, a bad header) settles at once; a key at hand costs no extra tick.
   */
  private verifyJwt(decoded: DecodedJwt, checks: ClaimChecks, headerTypes?: readonly string[]): Verified | Promise<Verified> {
    const kid = decoded.header.kid;
    const found = this.keys.resolve(typeof kid === 'string' ? kid : undefined);
    return found instanceof Promise ? found.then((lookup) => this.checkJwt(decoded, lookup, checks, headerTypes)) : this.checkJwt(decoded, found, checks, headerTypes);
  }

  private checkJwt(decoded: DecodedJwt, found: KeyLookup, checks: ClaimChecks, headerTypes: readonly string[] | undefined): Verified | Promise<Verified> {
    if ('failure' in found) return { reason: found.failure };
    const headerProblem = checkHeader(decoded.header, headerTypes);
    if (headerProblem) return { reason: headerProblem };
    const signatureProblem = verifySignature(decoded, found.key);
    // Checked while the signature is verified off this thread; a signature problem still comes first,
    // as in @clerk/backend (`jwtOutcome`).
    const claimProblem = checkClaims(decoded.payload, checks);
    if (!(signatureProblem instanceof Promise)) return jwtOutcome(signatureProblem, claimProblem, decoded.payload);
    return signatureProblem.then((problem) => jwtOutcome(problem, claimProblem, decoded.payload));
  }

  private remember(token: string, auth: AuthenticateResult['auth'], kind: TokenKind, payload: Record<string, unknown>): AuthenticateResult {
    const expiresAt = validUntil(payload, this.options.clockSkewInMs);
    const result: AuthenticateResult = Number.isFinite(expiresAt) ? { auth: deepFreeze(auth), reason: null, expiresAt } : { auth: deepFreeze(auth), reason: null };
    this.cache?.set(token, result, kind, expiresAt);
    return result;
  }

  private verifySession(token: string, decoded: DecodedJwt, acceptsToken: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    const verified = this.verifyJwt(decoded, this.sessionChecks);
    if (!(verified instanceof Promise)) return this.sessionResult(token, verified, acceptsToken);
    // Built while the signature is verified off this thread, and used only if it passes: the main
    // thread's share of a cold token overlaps the verification instead of following it.
    const claims = decoded.payload;
    const prepared = claims.sts === 'pending' ? undefined : deepFreeze(sessionAuthObject(token, claims, this.clerk));
    return verified.then((v) => this.sessionResult(token, v, acceptsToken, prepared));
  }

  private sessionResult(token: string, verified: Verified, acceptsToken: AcceptsToken, prepared?: AuthenticateResult['auth']): AuthenticateResult {
    if ('reason' in verified) return signedOut(verified.reason, acceptsToken);
    const claims = verified.payload;
    if (claims.sts === 'pending') return signedOut(SignedOutReason.SessionPending, acceptsToken, 'pending');
    return this.remember(token, prepared ?? sessionAuthObject(token, claims, this.clerk), 'session_token', claims);
  }

  private verifyMachineJwt(token: string, kind: TokenKind, decoded: DecodedJwt, acceptsToken: AcceptsToken): AuthenticateResult | Promise<AuthenticateResult> {
    if (kind === 'm2m_token' && decoded.header.cat !== undefined && decoded.header.cat !== CAT_M2M) return signedOut(SignedOutReason.TokenInvalid, acceptsToken, undefined, kind);
    const checks: ClaimChecks = { clockSkewInMs: this.options.clockSkewInMs, audience: kind === 'm2m_token' ? this.options.audience : undefined };
    const verified = this.verifyJwt(decoded, checks, kind === 'oauth_token' ? OAUTH_JWT_TYPES : undefined);
    return verified instanceof Promise ? verified.then((v) => this.machineJwtResult(token, kind, v, acceptsToken)) : this.machineJwtResult(token, kind, verified, acceptsToken);
  }

  private machineJwtResult(token: string, kind: TokenKind, verified: Verified, acceptsToken: AcceptsToken): AuthenticateResult {
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

  /**
   * Opaque verifications in flight, by store key (or token): concurrent requests presenting one token
   * share one verification, and one frozen auth object when it is accepted.
   */
  private readonly opaqueInFlight = new Map<string, Promise<AuthenticateResult | Exclude<OpaqueOutcome, { data: unknown }>>>();

  /** What opaque verification has cost so far. */
  metrics(): MachineTokenMetrics {
    return { ...this.counters };
  }

  /**
   * Opaque tokens are verified by the Backend API, and what it says about the token is kept in the
   * store (see `SharedVerifications`): accepted for `machineTokens.acceptedTtlMs`, definitely rejected
   * for `machineTokens.rejectedTtlMs`. A token the store does not know is verified once for all the
   * concurrent requests presenting it (and, with a shared store, for all the instances missing on it
   * at once, as far as the store's lock allows); calls beyond `machineTokens.maxConcurrentVerifications`
   * queue, and a full queue or a too-long wait is `clerk-api-unavailable`, never acceptance.
   */
  private async verifyOpaque(token: string, kind: MachineTokenType, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    if (!opaqueVerificationKey(kind, this.options)) return signedOut(SignedOutReason.SecretKeyRequired, acceptsToken, undefined, kind);
    // Joined before the first await (the store key is an async keyed hash), so requests arriving in the
    // same tick share one store read and at most one verification.
    let pending = this.opaqueInFlight.get(token);
    if (pending === undefined) {
      pending = this.verifyOpaqueOnce(token, kind).finally(() => this.opaqueInFlight.delete(token));
      this.opaqueInFlight.set(token, pending);
    } else {
      this.counters.joinedInFlight += 1;
    }
    const settled = await pending;
    return 'auth' in settled ? settled : this.rejection(settled, acceptsToken, kind);
  }

  /** The store's answer when it has one (accepted or rejected), else the Backend API's, stored for the next. */
  private async verifyOpaqueOnce(token: string, kind: MachineTokenType): Promise<AuthenticateResult | Exclude<OpaqueOutcome, { data: unknown }>> {
    const shared = this.shared;
    const key = shared === undefined ? token : await shared.keyOf(kind, token);
    const stored = shared === undefined ? undefined : await shared.read(key, kind);
    if (stored !== undefined) return 'data' in stored ? accepted(token, kind, stored.data) : stored;
    const outcome = await this.resolveOpaque(token, kind, key);
    return 'data' in outcome ? accepted(token, kind, outcome.data) : outcome;
  }

  private rejection(outcome: Exclude<OpaqueOutcome, { data: unknown }>, acceptsToken: AcceptsToken, kind: MachineTokenType): AuthenticateResult {
    const result = signedOut(outcome.reason, acceptsToken, undefined, kind);
    return outcome.retryAfterSeconds === undefined ? result : { ...result, retryAfterSeconds: outcome.retryAfterSeconds };
  }

  /**
   * A token the store did not know: with a shared store, take its lock (or wait for the instance
   * holding it), then ask the Backend API and store the answer.
   */
  private async resolveOpaque(token: string, kind: MachineTokenType, key: string): Promise<OpaqueOutcome> {
    const shared = this.shared;
    if (shared === undefined) return this.askBackendApi(token, kind);
    let locked = false;
    if (shared.coordinates) {
      const lock = await shared.lock(key);
      if (lock === 'held') {
        const waited = await shared.waitForOther(key, kind);
        if (waited !== 'acquired' && waited !== undefined) return waited;
        locked = waited === 'acquired';
      } else {
        locked = lock === 'acquired';
      }
      if (locked) {
        // The holder before us may have stored its answer between our miss and our lock.
        const stored = await shared.read(key, kind);
        if (stored !== undefined) {
          void shared.release(key);
          return stored;
        }
      }
    }
    const outcome = await this.askBackendApi(token, kind);
    if ('data' in outcome || outcome.definite === true) await shared.write(key, kind, outcome);
    if (locked) void shared.release(key);
    return outcome;
  }

  /** One Backend API verification of an opaque token, within the concurrency cap; aborted after `apiTimeoutMs`. */
  private async askBackendApi(token: string, kind: MachineTokenType): Promise<OpaqueOutcome> {
    const o = this.options;
    const waitMs = this.rateLimitedUntil - Date.now();
    if (waitMs > 0) {
      this.counters.refused += 1;
      return { reason: SignedOutReason.ClerkApiUnavailable, retryAfterSeconds: Math.ceil(waitMs / 1000) };
    }
    const outcome = await this.verifications.run(() => {
      this.counters.backendApiCalls += 1;
      return verifyOpaqueToken(token, kind, { apiUrl: o.apiUrl, secretKey: o.secretKey, machineSecretKey: o.machineSecretKey, audience: o.audience, timeoutMs: o.apiTimeoutMs });
    }, OVERLOADED);
    if (outcome === OVERLOADED) this.counters.refused += 1;
    if ('data' in outcome) return { data: outcome.data };
    if (outcome.retryAfterSeconds !== undefined) {
      this.counters.rateLimited += 1;
      this.rateLimitedUntil = Math.max(this.rateLimitedUntil, Date.now() + outcome.retryAfterSeconds * 1000);
      return { reason: outcome.reason, retryAfterSeconds: outcome.retryAfterSeconds };
    }
    return { reason: outcome.reason, definite: outcome.definite };
  }
}

/** A JWT's verdict: the signature's problem first, then the claims', else its verified payload. */
function jwtOutcome(signatureProblem: SignedOutReason | undefined, claimProblem: SignedOutReason | undefined, payload: Record<string, unknown>): Verified {
  if (signatureProblem) return { reason: signatureProblem };
  return claimProblem ? { reason: claimProblem } : { payload };
}

/** The result of an opaque token Clerk accepted: its frozen auth object, and its expiration. */
function accepted(token: string, kind: MachineTokenType, data: MachineVerificationResult): AuthenticateResult {
  const auth = deepFreeze(authenticatedMachineObject(kind, token, data));
  const expiration = data.expiration;
  return typeof expiration === 'number' && Number.isFinite(expiration) ? { auth, reason: null, expiresAt: expiration } : { auth, reason: null };
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
