import { TokenVerificationError } from '@clerk/backend/errors';
import {
  authenticatedMachineObject,
  signedInAuthObject,
  signedOutAuthObject,
  unauthenticatedMachineObject,
  verifyMachineAuthToken,
} from '@clerk/backend/internal';
import { decodeJwt, verifyJwt } from '@clerk/backend/jwt';
import type { KeyResolver } from './jwks.js';
import { accepts, type ResolvedOptions } from './options.js';
import { SignedOutReason, toSignedOutReason } from './reasons.js';
import type { AcceptsToken, AuthenticateResult, MachineTokenType } from './types.js';

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

type Decoded = ReturnType<typeof decodeJwt>;
type Classified =
  | { kind: 'session_token'; decoded: Decoded }
  | { kind: MachineTokenType; decoded: Decoded }
  | { kind: MachineTokenType; decoded: null }
  | { invalid: SignedOutReason };

/** The signed-out result for a call that accepts `acceptsToken`. @internal */
export function signedOut(reason: SignedOutReason, acceptsToken: AcceptsToken, sessionStatus?: 'pending'): AuthenticateResult {
  if (accepts(acceptsToken, 'session_token')) return { auth: signedOutAuthObject(undefined, sessionStatus), reason };
  const first = (typeof acceptsToken === 'string' ? acceptsToken : acceptsToken[0]) as MachineTokenType;
  return { auth: unauthenticatedMachineObject(first), reason };
}

/**
 * Sorts a token into session / machine (JWT or opaque) the way `@clerk/backend` does, decoding it once.
 */
function classify(token: string): Classified {
  for (const [prefix, kind] of OPAQUE_PREFIXES) {
    if (token.startsWith(prefix)) return { kind, decoded: null };
  }
  if (!JWT_FORMAT.test(token)) return { invalid: SignedOutReason.TokenInvalid };
  let decoded: Decoded;
  try {
    decoded = decodeJwt(token);
  } catch {
    return { invalid: SignedOutReason.TokenInvalid };
  }
  const header = decoded.header as { typ?: unknown; cat?: unknown };
  const payload = decoded.payload as { sub?: unknown };
  if (typeof payload.sub === 'string' && payload.sub.startsWith('mch_')) return { kind: 'm2m_token', decoded };
  if (typeof header.typ === 'string' && OAUTH_JWT_TYPES.includes(header.typ)) return { kind: 'oauth_token', decoded };
  if (header.cat !== undefined && header.cat !== CAT_SESSION && header.cat !== CAT_IGNORE) {
    return { invalid: SignedOutReason.TokenTypeMismatch };
  }
  return { kind: 'session_token', decoded };
}

/** Verifies one token into an auth result. Never throws. @internal */
export class TokenVerifier {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly keys: KeyResolver,
  ) {}

  async verify(token: string, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    try {
      const classified = classify(token);
      if ('invalid' in classified) return signedOut(classified.invalid, acceptsToken);
      if (!accepts(acceptsToken, classified.kind)) return signedOut(SignedOutReason.TokenTypeMismatch, acceptsToken);
      if (classified.kind === 'session_token') return await this.verifySession(token, classified.decoded, acceptsToken);
      if (classified.decoded === null) return await this.verifyOpaque(token, classified.kind, acceptsToken);
      return await this.verifyMachineJwt(token, classified.kind, classified.decoded, acceptsToken);
    } catch {
      return signedOut(SignedOutReason.TokenInvalid, acceptsToken);
    }
  }

  /** Resolves the key and runs `@clerk/backend`'s `verifyJwt`; returns the payload or a reason. */
  private async verifyJwt(
    token: string,
    decoded: Decoded,
    checks: { audience?: string | string[] | undefined; authorizedParties?: string[] | undefined; issuer?: string | string[] | undefined; headerType?: string[] },
  ): Promise<{ payload: Record<string, unknown> } | { reason: SignedOutReason }> {
    const kid = (decoded.header as { kid?: unknown }).kid;
    const found = await this.keys.resolve(typeof kid === 'string' ? kid : undefined);
    if ('failure' in found) return { reason: found.failure };
    try {
      const payload = await verifyJwt(token, {
        key: found.key,
        clockSkewInMs: this.options.clockSkewInMs,
        ...(checks.audience !== undefined && { audience: checks.audience }),
        ...(checks.authorizedParties !== undefined && { authorizedParties: checks.authorizedParties }),
        ...(checks.issuer !== undefined && { issuer: checks.issuer }),
        ...(checks.headerType !== undefined && { headerType: checks.headerType }),
      });
      return { payload: payload as Record<string, unknown> };
    } catch (error) {
      return { reason: error instanceof TokenVerificationError ? toSignedOutReason(error.reason) : SignedOutReason.TokenInvalid };
    }
  }

  private async verifySession(token: string, decoded: Decoded, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    const o = this.options;
    const result = await this.verifyJwt(token, decoded, { audience: o.audience, authorizedParties: o.authorizedParties, issuer: o.issuer });
    if ('reason' in result) return signedOut(result.reason, acceptsToken);
    const claims = result.payload;
    if (claims.sts === 'pending') return signedOut(SignedOutReason.SessionPending, acceptsToken, 'pending');
    const context = { secretKey: o.secretKey, apiUrl: o.apiUrl, apiVersion: o.apiVersion };
    return { auth: signedInAuthObject(context, token, claims as Parameters<typeof signedInAuthObject>[2]), reason: null };
  }

  private async verifyMachineJwt(token: string, kind: MachineTokenType, decoded: Decoded, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    const header = decoded.header as { cat?: unknown };
    if (kind === 'm2m_token' && header.cat !== undefined && header.cat !== CAT_M2M) return signedOut(SignedOutReason.TokenInvalid, acceptsToken);
    const result = await this.verifyJwt(token, decoded, {
      audience: kind === 'm2m_token' ? this.options.audience : undefined,
      ...(kind === 'oauth_token' && { headerType: OAUTH_JWT_TYPES }),
    });
    if ('reason' in result) return signedOut(result.reason, acceptsToken);
    const p = result.payload;
    if (kind === 'oauth_token' && !oauthAudienceMatches(p.aud, this.options.audience)) return signedOut(SignedOutReason.TokenVerificationFailed, acceptsToken);
    const data =
      kind === 'm2m_token'
        ? { id: str(p.jti), subject: str(p.sub), scopes: typeof p.scopes === 'string' ? p.scopes.split(' ') : ((p.aud as string[] | undefined) ?? []), claims: customClaims(p) }
        : { id: str(p.jti), subject: str(p.sub), clientId: str(p.client_id), scopes: Array.isArray(p.scp) ? p.scp : typeof p.scope === 'string' ? p.scope.split(' ') : [] };
    return { auth: authenticatedMachineObject(kind, token, data as never), reason: null };
  }

  private async verifyOpaque(token: string, kind: MachineTokenType, acceptsToken: AcceptsToken): Promise<AuthenticateResult> {
    const o = this.options;
    const key = kind === 'm2m_token' ? (o.machineSecretKey ?? o.secretKey) : o.secretKey;
    if (!key) return signedOut(SignedOutReason.SecretKeyRequired, acceptsToken);
    const verification = verifyMachineAuthToken(token, {
      secretKey: o.secretKey ?? key,
      apiUrl: o.apiUrl,
      apiVersion: o.apiVersion,
      ...(o.machineSecretKey !== undefined && { machineSecretKey: o.machineSecretKey }),
      ...(o.audience !== undefined && { audience: o.audience }),
    } as Parameters<typeof verifyMachineAuthToken>[1]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), o.apiTimeoutMs);
    });
    const outcome = await Promise.race([verification, timeout]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') return signedOut(SignedOutReason.ClerkApiUnavailable, acceptsToken);
    if (outcome.errors) return signedOut(machineReason(outcome.errors[0].code), acceptsToken);
    if (outcome.tokenType !== kind) return signedOut(SignedOutReason.TokenTypeMismatch, acceptsToken);
    return { auth: authenticatedMachineObject(kind, token, outcome.data as never), reason: null };
  }
}

function machineReason(code: string): SignedOutReason {
  if (code === 'token-invalid' || code === 'token-verification-failed' || code === 'secret-key-invalid') return code;
  return toSignedOutReason(code);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const RESERVED_M2M_CLAIMS = new Set(['iss', 'sub', 'exp', 'nbf', 'iat', 'jti']);
function customClaims(payload: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) if (!RESERVED_M2M_CLAIMS.has(key)) claims[key] = value;
  return claims;
}

function oauthAudienceMatches(aud: unknown, audience: string | string[] | undefined): boolean {
  const wanted = [audience ?? []].flat().filter(Boolean);
  if (wanted.length === 0) return true;
  const present = [aud ?? []].flat().filter((a): a is string => typeof a === 'string');
  return present.some((a) => wanted.includes(a));
}
