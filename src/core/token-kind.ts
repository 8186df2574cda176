import { decodeJwt, type DecodedJwt } from './jwt.js';
import type { TokenKind } from './types.js';

// Clerk's JWT categories (`cat` header) and machine-token markers, as @clerk/backend defines them
// (src/tokens/jwtCategories.ts, src/tokens/machine.ts).
const CAT_SESSION = 'cl_B7d4PD111AAA';
const CAT_IGNORE = 'cl_I7d4PD111III';
const OAUTH_JWT_TYPES: readonly unknown[] = ['at+jwt', 'application/at+jwt'];
const JWT_FORMAT = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

/**
 * The machine kind of a decoded JWT (`sub` `mch_…` → M2M, `typ` `at+jwt` → OAuth), or `null` for
 * any other JWT, as @clerk/backend's `isM2MJwt` / `isOAuthJwt` decide. @internal
 */
export function machineJwtKind(decoded: DecodedJwt): 'm2m_token' | 'oauth_token' | null {
  const { header, payload } = decoded;
  if (typeof payload.sub === 'string' && payload.sub.startsWith('mch_')) return 'm2m_token';
  if (OAUTH_JWT_TYPES.includes(header.typ)) return 'oauth_token';
  return null;
}

/** Whether a decoded JWT carries a `cat` header other than a session's (e.g. a JWT template's). @internal */
export function hasNonSessionCategory(decoded: DecodedJwt): boolean {
  const cat = decoded.header.cat;
  return cat !== undefined && cat !== CAT_SESSION && cat !== CAT_IGNORE;
}

/**
 * The kind a presented token claims to be, before any verification, the way @clerk/backend sorts a
 * token to pick a verification path and an auth object (`isMachineToken` / `getMachineTokenType`):
 * `mt_…` or an M2M JWT → `m2m_token`; `oat_…` or an OAuth JWT → `oauth_token`; `ak_…` → `api_key`;
 * anything else, malformed included, → `session_token`.
 *
 * @internal
 */
export function presentedKind(token: string): TokenKind {
  const decoded = JWT_FORMAT.test(token) ? decodeJwt(token) : undefined;
  const jwtKind = decoded ? machineJwtKind(decoded) : null;
  if (token.startsWith('mt_') || jwtKind === 'm2m_token') return 'm2m_token';
  if (token.startsWith('oat_') || jwtKind === 'oauth_token') return 'oauth_token';
  if (token.startsWith('ak_')) return 'api_key';
  return 'session_token';
}
