import { getCookieSuffix, parsePublishableKey } from '@clerk/shared/keys';
import { decodeJwt, type DecodedJwt } from './jwt.js';
import { SignedOutReason } from './reasons.js';
import { hasNonSessionCategory, machineJwtKind } from './token-kind.js';

/**
 * How the `__session` cookie of an instance is read: which cookie names (Clerk suffixes them with a
 * hash of the publishable key, so that several apps on one domain keep apart) and which frontend API
 * issues its tokens. Without a publishable key only the unsuffixed cookies are read.
 *
 * @internal
 */
export interface SessionCookieRules {
  /** `getCookieSuffix(publishableKey)`; `undefined` without a publishable key. */
  readonly suffix: string | undefined;
  /** The publishable key's frontend API host (`iss` of its session tokens, without the scheme). */
  readonly frontendApi: string | undefined;
  /** Whether the publishable key is a production one (`pk_live_`). */
  readonly production: boolean;
}

/** What the cookie rules decide, before any cryptography: a session token to verify, or why not. @internal */
export type SessionCookieOutcome = { token: string } | { token: null; reason: SignedOutReason };

const NO_PUBLISHABLE_KEY: SessionCookieRules = Object.freeze({ suffix: undefined, frontendApi: undefined, production: false });

/**
 * The cookie rules for a publishable key. The suffix is a SHA-1 digest (WebCrypto, so asynchronous):
 * the rules come as a promise that settles almost at once. A key that does not parse, or a runtime
 * without WebCrypto, reads the unsuffixed cookies only.
 *
 * @internal
 */
export function sessionCookieRules(publishableKey: string | undefined): SessionCookieRules | Promise<SessionCookieRules> {
  if (publishableKey === undefined) return NO_PUBLISHABLE_KEY;
  const parsed = parsePublishableKey(publishableKey);
  if (!parsed) return NO_PUBLISHABLE_KEY;
  const production = parsed.instanceType === 'production';
  return getCookieSuffix(publishableKey).then(
    (suffix) => Object.freeze({ suffix, frontendApi: parsed.frontendApi, production }),
    () => NO_PUBLISHABLE_KEY,
  );
}

/** A cookie sent twice with two different values: ambiguous, so read as absent. */
const AMBIGUOUS = '\u0000';

/**
 * Applies Clerk's cookie rules to a `Cookie` header, as `@clerk/backend`'s
 * `authenticateRequestWithTokenInCookie` does for a request that is not a document navigation:
 * - the cookie pair (`__session` / `__client_uat`, or their suffixed twins) is chosen as Clerk's
 *   `usesSuffixedCookies` chooses it;
 * - no session cookie → `token-missing`; a session cookie but `__client_uat` absent or `0` →
 *   `session-token-but-no-client-uat`;
 * - a session cookie that is not a JWT → `token-invalid`; a machine JWT (M2M, OAuth) or a JWT of a
 *   non-session category → `token-type-mismatch` (the cookie only ever carries a session token, so an
 *   opaque `ak_`/`mt_`/`oat_` value or a machine JWT never reaches the Backend API from here);
 * - a token issued before `__client_uat` → `session-token-iat-before-client-uat`.
 * What passes is verified as a session token and nothing else.
 *
 * A cookie sent twice with different values is read as absent; longer than `maxTokenLength` →
 * `token-too-large`, before anything is decoded.
 *
 * @internal
 */
export function sessionCookie(cookieHeader: string, rules: SessionCookieRules, maxTokenLength: number): SessionCookieOutcome {
  const jar = parseCookies(cookieHeader, rules.suffix);
  const useSuffixed = rules.suffix !== undefined && usesSuffixedCookies(jar, rules, rules.suffix, maxTokenLength);
  const token = useSuffixed ? jar.get(`__session_${rules.suffix}`) : jar.get('__session');
  const clientUatRaw = useSuffixed ? jar.get(`__client_uat_${rules.suffix}`) : jar.get('__client_uat');
  if (token === undefined) return { token: null, reason: SignedOutReason.TokenMissing };
  if (token.length > maxTokenLength) return { token: null, reason: SignedOutReason.TokenTooLarge };
  // As Clerk reads it: `Number.parseInt(value || '') || 0`.
  const clientUat = Number.parseInt(clientUatRaw ?? '') || 0;
  if (!clientUat) return { token: null, reason: SignedOutReason.SessionTokenWithoutClientUat };
  const decoded = decodeJwt(token);
  if (!decoded) return { token: null, reason: SignedOutReason.TokenInvalid };
  if (machineJwtKind(decoded) !== null || hasNonSessionCategory(decoded)) return { token: null, reason: SignedOutReason.TokenTypeMismatch };
  // Clerk compares with `<` whatever the claim's type; so do we (a missing `iat` passes here and is
  // judged by verification).
  if ((decoded.payload.iat as number) < clientUat) return { token: null, reason: SignedOutReason.SessionTokenIatBeforeClientUat };
  return { token };
}

/**
 * The cookies the rules read, by name; empty values are absent (Clerk's `getCookie(...) || undefined`),
 * a value in double quotes is unquoted (RFC 6265), a name sent twice with two values is ambiguous.
 */
function parseCookies(header: string, suffix: string | undefined): Map<string, string> {
  const wanted = suffix === undefined ? ['__session', '__client_uat'] : ['__session', '__client_uat', `__session_${suffix}`, `__client_uat_${suffix}`];
  const jar = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!wanted.includes(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value === '') continue;
    const seen = jar.get(name);
    jar.set(name, seen === undefined || seen === value ? value : AMBIGUOUS);
  }
  for (const [name, value] of jar) if (value === AMBIGUOUS) jar.delete(name);
  return jar;
}

function decodeBounded(token: string | undefined, maxTokenLength: number): DecodedJwt | undefined {
  return token !== undefined && token.length <= maxTokenLength ? decodeJwt(token) : undefined;
}

/** @clerk/backend's `AuthenticateContext.usesSuffixedCookies`, step for step. */
function usesSuffixedCookies(jar: Map<string, string>, rules: SessionCookieRules, suffix: string, maxTokenLength: number): boolean {
  const suffixedClientUat = jar.get(`__client_uat_${suffix}`);
  const clientUat = jar.get('__client_uat');
  const suffixedSession = jar.get(`__session_${suffix}`);
  const session = jar.get('__session');
  const sessionData = decodeBounded(session, maxTokenLength);
  if (session !== undefined) {
    const iss = sessionData?.payload.iss;
    if (!iss) return false; // Clerk's tokenHasIssuer
    if (typeof iss !== 'string' || iss.replace(/https?:\/\//gi, '') !== rules.frontendApi) return true; // not this instance's
  }
  if (suffixedClientUat === undefined && suffixedSession === undefined) return false;
  const suffixedData = decodeBounded(suffixedSession, maxTokenLength);
  const sessionIat = (sessionData?.payload.iat as number | undefined) || 0;
  const suffixedIat = (suffixedData?.payload.iat as number | undefined) || 0;
  if (suffixedClientUat !== '0' && clientUat !== '0' && sessionIat > suffixedIat) return false;
  if (suffixedClientUat === '0' && clientUat !== '0') return false;
  if (!rules.production) {
    const suffixedExpired = suffixedData !== undefined && (suffixedData.payload.exp as number) <= Date.now() / 1000 >> 0;
    if (suffixedClientUat !== '0' && clientUat === '0' && suffixedExpired) return false;
  }
  if (suffixedClientUat === undefined && suffixedSession !== undefined) return false;
  return true;
}
