import { SignedOutReason } from './reasons.js';
import { rsaVerifier, type RsaHash, type RsaVerifier } from './rsa-verify.js';

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

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Node's and Bun's `Buffer`, where there is one: its native base64url decoder is several times faster than a loop. */
const NativeBuffer = (globalThis as { Buffer?: { from(input: string, encoding: 'base64url' | 'latin1'): Uint8Array } }).Buffer;

/**
 * Base64url as Clerk's decoder reads it: trailing `=` ignored, but leftover bits must be zero, so a
 * token has exactly one spelling (no malleable last character). The alphabet and the leftover bits
 * are checked here; the decoding itself is native where the runtime has a `Buffer`. @internal
 */
export function base64UrlDecode(input: string): Uint8Array | undefined {
  let end = input.length;
  while (end > 0 && input.charCodeAt(end - 1) === 61) end--;
  const body = end === input.length ? input : input.slice(0, end);
  if (!ALPHABET.test(body)) return undefined;
  const rest = end % 4;
  if (rest === 1) return undefined;
  // 2 characters of a last group carry 4 bits too many, 3 carry 2: they must be zero.
  if (rest !== 0 && (CODES[body.charCodeAt(end - 1)] as number) & (rest === 2 ? 0x0f : 0x03)) return undefined;
  if (NativeBuffer !== undefined) return NativeBuffer.from(body, 'base64url');
  const out = new Uint8Array(((end * 6) / 8) | 0);
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (let i = 0; i < end; i++) {
    buffer = ((buffer << 6) | (CODES[body.charCodeAt(i)] as number)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/** The signing input's bytes (ASCII: the alphabet was checked). */
function asciiBytes(text: string): Uint8Array {
  return NativeBuffer !== undefined ? NativeBuffer.from(text, 'latin1') : encoder.encode(text);
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
  return { header, payload, signature, signingInput: asciiBytes(token.slice(0, second)) };
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

/**
 * Verifies a signature with a cached key, for the key's own algorithm only: a header `alg` other
 * than the key's is `token-verification-failed`, as in `@clerk/backend`. Settles at once when the
 * verifier does (a refused algorithm, or the main-thread `node:crypto` verifier). @internal
 */
export function verifySignature(decoded: DecodedJwt, jwk: JsonWebKey, verifier: RsaVerifier = rsaVerifier()): SignedOutReason | undefined | Promise<SignedOutReason | undefined> {
  const alg = keyAlgorithm(jwk);
  if (decoded.header.alg !== alg || !Object.hasOwn(HASH_OF_ALG, alg)) return SignedOutReason.TokenVerificationFailed;
  const valid = verifier.verify(jwk, HASH_OF_ALG[alg] as RsaHash, decoded.signature, decoded.signingInput);
  return valid instanceof Promise ? valid.then(signatureOutcome) : signatureOutcome(valid);
}

function signatureOutcome(valid: boolean | undefined): SignedOutReason | undefined {
  return valid === undefined ? SignedOutReason.TokenVerificationFailed : valid ? undefined : SignedOutReason.TokenInvalidSignature;
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
