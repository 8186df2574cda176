import { SignedOutReason } from './reasons.js';

/**
 * The JWT rules `@clerk/backend`'s `verifyJwt` enforces, done once per token with a key imported once
 * per JWK (Clerk re-imports the key and re-decodes the token on every call). The differential test
 * (test/core/differential.test.ts) proves decisions and auth fields equal `authenticateRequest`'s on
 * a generated corpus.
 *
 * @internal
 */

/** A decoded, not yet verified JWT. @internal */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const CODES = new Int16Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) CODES[c.charCodeAt(0)] = i;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Base64url as Clerk's decoder reads it: trailing `=` ignored, but leftover bits must be zero, so a
 * token has exactly one spelling (no malleable last character). @internal
 */
export function base64UrlDecode(input: string): Uint8Array | undefined {
  let end = input.length;
  while (end > 0 && input.charCodeAt(end - 1) === 61) end--;
  const out = new Uint8Array(((end * 6) / 8) | 0);
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (let i = 0; i < end; i++) {
    const code = input.charCodeAt(i);
    const value = code < 128 ? (CODES[code] as number) : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (buffer >> bits) & 0xff;
    }
  }
  if (bits >= 6 || (0xff & (buffer << (8 - bits)))) return undefined;
  return out;
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a compact JWT once. @internal */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1 || second === token.length - 1) return undefined;
  const headerBytes = base64UrlDecode(token.slice(0, first));
  const payloadBytes = base64UrlDecode(token.slice(first + 1, second));
  const signature = base64UrlDecode(token.slice(second + 1));
  if (!headerBytes || !payloadBytes || !signature) return undefined;
  const header = parseJsonObject(headerBytes);
  const payload = parseJsonObject(payloadBytes);
  if (!header || !payload) return undefined;
  return { header, payload, signature, signingInput: encoder.encode(token.slice(0, second)) };
}

const HASH_OF_ALG: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = { RS256: 'SHA-256', RS384: 'SHA-384', RS512: 'SHA-512' };

/** Header checks as Clerk's `assertHeaderType` / `assertHeaderAlgorithm`. @internal */
export function checkHeader(header: Record<string, unknown>, allowedTypes?: readonly string[]): SignedOutReason | undefined {
  const { typ, alg } = header;
  if (!(typ === undefined && allowedTypes === undefined)) {
    if (!(allowedTypes ?? ['JWT']).includes(typ as string)) return SignedOutReason.TokenInvalid;
  }
  if (typeof alg !== 'string' || !Object.hasOwn(HASH_OF_ALG, alg)) return SignedOutReason.TokenInvalidAlgorithm;
  return undefined;
}

/**
 * The one algorithm a key verifies: the JWK's own `alg` when it declares one, else RS256 (the only
 * algorithm Clerk signs with; a configured PEM key is always RS256). A token whose header names
 * another algorithm is refused even when the same RSA key made its signature: one key, one
 * algorithm (RFC 8725 §3.1). `@clerk/backend` refuses it too, with `token-verification-failed`
 * (WebCrypto will not import a JWK whose `alg` differs from the requested algorithm).
 *
 * @internal
 */
export function keyAlgorithm(jwk: JsonWebKey): string {
  return typeof jwk.alg === 'string' ? jwk.alg : 'RS256';
}

const imported = new WeakMap<JsonWebKey, Promise<CryptoKey | undefined>>();

/**
 * Imports a JWK for its one algorithm (`keyAlgorithm`), once; later calls reuse the same `CryptoKey`.
 * Resolves `undefined` when the key cannot verify RS256/384/512 signatures.
 *
 * @internal
 */
export function importVerifyKey(jwk: JsonWebKey): Promise<CryptoKey | undefined> {
  let key = imported.get(jwk);
  if (!key) {
    const alg = keyAlgorithm(jwk);
    const hash = Object.hasOwn(HASH_OF_ALG, alg) ? HASH_OF_ALG[alg] : undefined;
    const { kty, n, e } = jwk;
    key =
      hash === undefined
        ? Promise.resolve(undefined)
        : crypto.subtle.importKey('jwk', { kty, n, e, alg }, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']).catch(() => undefined);
    imported.set(jwk, key);
  }
  return key;
}

/**
 * Verifies a signature with a cached key, for the key's own algorithm only: a header `alg` other
 * than the key's is `token-verification-failed`, as in `@clerk/backend`. @internal
 */
export async function verifySignature(decoded: DecodedJwt, jwk: JsonWebKey): Promise<SignedOutReason | undefined> {
  if (decoded.header.alg !== keyAlgorithm(jwk)) return SignedOutReason.TokenVerificationFailed;
  const key = await importVerifyKey(jwk);
  if (!key) return SignedOutReason.TokenVerificationFailed;
  try {
    const valid = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, decoded.signature as Uint8Array<ArrayBuffer>, decoded.signingInput as Uint8Array<ArrayBuffer>);
    return valid ? undefined : SignedOutReason.TokenInvalidSignature;
  } catch {
    return SignedOutReason.TokenVerificationFailed;
  }
}

/** Claim checks, in Clerk's order and with Clerk's semantics. @internal */
export interface ClaimChecks {
  audience?: string | string[] | undefined;
  authorizedParties?: string[] | undefined;
  issuer?: string | string[] | undefined;
  clockSkewInMs: number;
}

function secondsToMs(seconds: number): number {
  // Clerk converts with Date#setUTCSeconds; so do we, to agree on fractional and huge values.
  const date = new Date(0);
  date.setUTCSeconds(seconds);
  return date.getTime();
}

/** @internal */
export function checkClaims(payload: Record<string, unknown>, checks: ClaimChecks, now = Date.now()): SignedOutReason | undefined {
  const { azp, sub, aud, iss, iat, exp, nbf } = payload;
  if (typeof sub !== 'string') return SignedOutReason.TokenVerificationFailed;
  const audienceList = [checks.audience].flat().filter((a): a is string => !!a);
  const audList = [aud].flat().filter((a) => !!a);
  if (audienceList.length > 0 && audList.length > 0) {
    if (typeof aud === 'string') {
      if (!audienceList.includes(aud)) return SignedOutReason.TokenVerificationFailed;
    } else if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) {
      if (!aud.some((a: string) => audienceList.includes(a))) return SignedOutReason.TokenVerificationFailed;
    }
  }
  const parties = checks.authorizedParties;
  if (parties && parties.length > 0 && (!azp || !parties.includes(azp as string))) return SignedOutReason.TokenInvalidAuthorizedParties;
  const issuerList = [checks.issuer].flat().filter((i): i is string => !!i);
  if (issuerList.length > 0 && (typeof iss !== 'string' || !issuerList.includes(iss))) return SignedOutReason.TokenInvalidIssuer;
  const skew = checks.clockSkewInMs;
  if (typeof exp !== 'number') return SignedOutReason.TokenVerificationFailed;
  if (secondsToMs(exp) <= now - skew) return SignedOutReason.TokenExpired;
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') return SignedOutReason.TokenVerificationFailed;
    if (secondsToMs(nbf) > now + skew) return SignedOutReason.TokenNotActiveYet;
  }
  if (iat !== undefined) {
    if (typeof iat !== 'number') return SignedOutReason.TokenVerificationFailed;
    if (secondsToMs(iat) > now + skew) return SignedOutReason.TokenIatInTheFuture;
  }
  return undefined;
}

/** When a verified token stops being valid, in ms since the epoch (exp + skew). @internal */
export function validUntil(payload: Record<string, unknown>, clockSkewInMs: number): number {
  return secondsToMs(payload.exp as number) + clockSkewInMs;
}
