import { SignedOutReason } from './reasons.js';
import type { AuthenticateInput, NodeLikeRequest } from './types.js';

/** What `readCredential` found: a token, no token, or a reason to refuse before any crypto. @internal */
export type Credential =
  | { token: string; source: 'header' | 'cookie' | 'string' }
  | { token: null; reason: SignedOutReason };

const MISSING: Credential = { token: null, reason: SignedOutReason.TokenMissing };
// RFC 7235 / RFC 6750: `Bearer` (any case), one or more spaces, then a token68.
const BEARER = /^bearer +(\S*)\s*$/i;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads the credential of a request without verifying it: the `Authorization: Bearer` header
 * (scheme case-insensitive), else a same-origin `__session` cookie. Never throws.
 *
 * @internal
 */
export function readCredential(input: AuthenticateInput, maxTokenLength: number): Credential {
  try {
    if (input == null) return MISSING;
    if (typeof input === 'string') return fromAuthorization(input, maxTokenLength, 'string', true);
    if (isWebRequest(input)) return fromHeaders(webHeaders(input), maxTokenLength);
    return fromHeaders(nodeHeaders(input), maxTokenLength);
  } catch {
    return { token: null, reason: SignedOutReason.MalformedAuthorizationHeader };
  }
}

/** The headers `readCredential` needs; the cookie-related ones are read only when there is no Authorization header. */
interface HeaderView {
  authorization: string[];
  cookie(): CookieHeaders;
}

interface CookieHeaders {
  cookie: string | undefined;
  origin: string | undefined;
  host: string | undefined;
  secFetchSite: string | undefined;
}

function fromHeaders(h: HeaderView, max: number): Credential {
  if (h.authorization.length > 1) return { token: null, reason: SignedOutReason.MultipleAuthorizationHeaders };
  const header = h.authorization[0];
  if (header !== undefined) return fromAuthorization(header, max, 'header', false);
  const cookieToken = sameOriginSessionCookie(h.cookie());
  if (cookieToken === undefined) return MISSING;
  return checkToken(cookieToken, max, 'cookie');
}

function fromAuthorization(value: string, max: number, source: 'header' | 'string', bareAllowed: boolean): Credential {
  // Refuse absurd input before running any regular expression over it.
  if (value.length > max + 64) return { token: null, reason: SignedOutReason.TokenTooLarge };
  const trimmed = value.trim();
  if (trimmed === '') return source === 'string' ? MISSING : { token: null, reason: SignedOutReason.MalformedAuthorizationHeader };
  // Fetch joins repeated headers with ", " — a second credential is never silently dropped. (A token
  // never holds a comma, so the common case skips the regular expression.)
  if (trimmed.includes(',') && /,\s*bearer\b/i.test(trimmed)) return { token: null, reason: SignedOutReason.MultipleAuthorizationHeaders };
  const match = BEARER.exec(trimmed);
  if (match) return checkToken(match[1] ?? '', max, source);
  if (bareAllowed && !/\s/.test(trimmed)) return checkToken(trimmed, max, source);
  return { token: null, reason: SignedOutReason.MalformedAuthorizationHeader };
}

/** Empty and oversized tokens are refused here; the character set is checked by `isToken68` before any crypto. */
function checkToken(token: string, max: number, source: 'header' | 'cookie' | 'string'): Credential {
  if (token === '') return { token: null, reason: SignedOutReason.MalformedAuthorizationHeader };
  if (token.length > max) return { token: null, reason: SignedOutReason.TokenTooLarge };
  return { token, source };
}

/**
 * Whether a token is an RFC 6750 token68. Checked when a token is about to be verified, not on a
 * verified-token cache hit: only tokens that passed it can be in the cache, so the hit is the proof.
 *
 * @internal
 */
export function isToken68(token: string): boolean {
  return TOKEN68.test(token);
}

/**
 * The `__session` cookie, read only for same-origin requests: a browser's cross-site request
 * (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host) never authenticates by cookie.
 */
function sameOriginSessionCookie(h: CookieHeaders): string | undefined {
  if (!h.cookie) return undefined;
  if (h.secFetchSite !== undefined && h.secFetchSite !== 'same-origin' && h.secFetchSite !== 'none') return undefined;
  if (h.origin !== undefined && h.origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(h.origin).host;
    } catch {
      return undefined;
    }
    if (!h.host || originHost.toLowerCase() !== h.host.toLowerCase()) return undefined;
  } else if (h.origin === 'null') {
    return undefined;
  }
  let found: string | undefined;
  for (const part of h.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== '__session') continue;
    if (found !== undefined) return undefined; // two __session cookies: ambiguous, read neither
    found = part.slice(eq + 1).trim();
  }
  return found === '' ? undefined : found;
}

function isWebRequest(input: object): input is Request {
  return typeof (input as Request).headers?.get === 'function';
}

function webHeaders(req: Request): HeaderView {
  const h = req.headers;
  const authorization = h.get('authorization');
  return {
    authorization: authorization === null ? [] : [authorization],
    cookie: () => ({
      cookie: h.get('cookie') ?? undefined,
      origin: h.get('origin') ?? undefined,
      host: h.get('host') ?? hostOf(req.url),
      secFetchSite: h.get('sec-fetch-site') ?? undefined,
    }),
  };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function nodeHeaders(req: NodeLikeRequest): HeaderView {
  const headers = req.headers ?? {};
  return {
    authorization: nodeAuthorization(req),
    cookie: () => ({
      cookie: single(headers.cookie, '; '),
      origin: single(headers.origin),
      host: single(headers.host),
      secFetchSite: single(headers['sec-fetch-site']),
    }),
  };
}

/**
 * Node keeps only the first Authorization header in `headers`; the raw and distinct views show them
 * all. `rawHeaders` comes first: scanning it is cheaper than `headersDistinct`, which builds a map of
 * every header on first access.
 */
function nodeAuthorization(req: NodeLikeRequest): string[] {
  const raw = req.rawHeaders;
  if (raw) {
    const values: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length === 13 && name.toLowerCase() === 'authorization') values.push(raw[i + 1] as string);
    }
    return values;
  }
  const distinct = req.headersDistinct?.authorization;
  if (distinct) return distinct;
  const value = req.headers?.authorization;
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function single(value: string | string[] | undefined, joiner?: string): string | undefined {
  if (Array.isArray(value)) return joiner !== undefined ? value.join(joiner) : value[0];
  return value;
}
