import { SignedOutReason } from './reasons.js';
import { sessionCookie, type SessionCookieRules } from './session-cookie.js';
import type { AuthenticateInput, ConnectionInput, NodeLikeRequest } from './types.js';

/**
 * What `readCredential` found: a token and where it was, no token, or a reason to refuse before any
 * crypto. A `cookie` token has passed Clerk's cookie rules and must be verified as a session token
 * only. @internal
 */
export type Credential =
  | {
      token: string;
      source: 'header' | 'cookie' | 'string' | 'params';
      /**
       * The token came after `Bearer ` and has not been scanned for whitespace yet: `Bearer a b` is a
       * malformed header (400), not a bad token. The scan waits for a verified-token cache miss
       * (`hasWhitespace`): a cached token is the proof it has none.
       */
      unscanned: boolean;
    }
  | { token: null; reason: SignedOutReason };

/** How `readCredential` reads a credential for one call. @internal */
export interface CredentialRules {
  /** Longest token accepted, in characters. */
  maxTokenLength: number;
  /**
   * How the `__session` cookie is read; `null` when the call accepts no session token: the cookie
   * only ever carries one, so it is not read at all (as `@clerk/backend` does for machine kinds).
   */
  cookie: SessionCookieRules | null;
}

const MISSING: Credential = { token: null, reason: SignedOutReason.TokenMissing };
const MALFORMED: Credential = { token: null, reason: SignedOutReason.MalformedAuthorizationHeader };
const MULTIPLE: Credential = { token: null, reason: SignedOutReason.MultipleAuthorizationHeaders };
const WHITESPACE = /\s/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The core's one credential reader, for every integration. Reads without verifying:
 * - a web `Request` or a Node-style request: the `Authorization: Bearer` header (scheme
 *   case-insensitive; header names case-insensitive, also in plain-object headers such as a Lambda
 *   event's), else a same-origin `__session` cookie under Clerk's cookie rules (`sessionCookie`);
 *   two Authorization headers → `multiple-authorization-headers`;
 * - a `ConnectionInput`: the token in the connection parameters (see `ConnectionInput`), checked
 *   against the request's own Authorization header; with none there, the request as above;
 * - a string: a bare token or `Bearer <token>`.
 *
 * Never throws: unreadable input is `malformed-authorization-header`.
 *
 * @internal
 */
export function readCredential(input: AuthenticateInput, rules: CredentialRules): Credential {
  try {
    if (input == null) return MISSING;
    if (typeof input === 'string') return fromAuthorization(input, rules.maxTokenLength, 'string');
    if (typeof input !== 'object') return MISSING;
    if (isConnectionInput(input)) return fromConnection(input, rules);
    return fromHeaders(headerView(input), rules);
  } catch {
    return MALFORMED;
  }
}

function isConnectionInput(input: object): input is ConnectionInput {
  return 'connectionParams' in input;
}

/** The headers `readCredential` needs; the cookie-related ones are read only when there is no Authorization header. */
interface HeaderView {
  authorization: unknown[];
  cookie(): CookieHeaders;
}

interface CookieHeaders {
  cookie: string | undefined;
  origin: string | undefined;
  host: string | undefined;
  secFetchSite: string | undefined;
}

function headerView(req: Request | NodeLikeRequest): HeaderView {
  return isWebRequest(req) ? webHeaders(req) : nodeHeaders(req);
}

function fromHeaders(h: HeaderView, rules: CredentialRules): Credential {
  if (h.authorization.length > 1) return MULTIPLE;
  const header = h.authorization[0];
  if (header !== undefined) return fromAuthorization(header, rules.maxTokenLength, 'header');
  if (rules.cookie === null) return MISSING;
  const cookies = h.cookie();
  if (!cookies.cookie || !isSameOrigin(cookies)) return MISSING;
  const outcome = sessionCookie(cookies.cookie, rules.cookie, rules.maxTokenLength);
  return outcome.token === null ? outcome : { token: outcome.token, source: 'cookie', unscanned: false };
}

/**
 * One Authorization value: `Bearer <token68>` (scheme any case). A bare token (no whitespace) is
 * accepted where no scheme is expected: a token string or a connection parameter.
 */
function fromAuthorization(value: unknown, max: number, source: 'header' | 'string' | 'params'): Credential {
  if (typeof value !== 'string') return MALFORMED;
  // Refuse absurd input before running any regular expression over it.
  if (value.length > max + 64) return { token: null, reason: SignedOutReason.TokenTooLarge };
  const trimmed = value.trim();
  if (trimmed === '') return source === 'header' ? MALFORMED : MISSING;
  // Fetch joins repeated headers with ", " — a second credential is never silently dropped. A token68
  // never holds a comma, so any comma is list syntax: a second (possibly empty) header value, which
  // makes the header malformed rather than its token bad. (The common case skips the expression.)
  if (trimmed.includes(',')) return /,\s*bearer\b/i.test(trimmed) ? MULTIPLE : MALFORMED;
  const token = bearerToken(trimmed);
  if (token !== undefined) return checkToken(token, max, source, true);
  if (source !== 'header' && !WHITESPACE.test(trimmed)) return checkToken(trimmed, max, source);
  return MALFORMED;
}

const BEARER_CODES = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72]; // "bearer"

/**
 * RFC 7235 / RFC 6750 on a trimmed value: `Bearer` (any case), one or more spaces, then the rest,
 * which must hold no whitespace (`hasWhitespace`, checked on a cache miss); `undefined` when the value
 * does not start that way.
 */
function bearerToken(trimmed: string): string | undefined {
  if (trimmed.length < 8 || trimmed.charCodeAt(6) !== 0x20) return undefined;
  for (let i = 0; i < 6; i++) if ((trimmed.charCodeAt(i) | 0x20) !== BEARER_CODES[i]) return undefined;
  let start = 7;
  while (trimmed.charCodeAt(start) === 0x20) start++;
  return trimmed.slice(start);
}

/**
 * Whether a token read after `Bearer ` holds whitespace, which makes the header malformed
 * (`/^bearer +(\S+)$/i` fails). Checked on a verified-token cache miss, like `isToken68`.
 *
 * @internal
 */
export function hasWhitespace(token: string): boolean {
  return WHITESPACE.test(token);
}

/** Empty and oversized tokens are refused here; the character set is checked by `isToken68` before any crypto. */
function checkToken(token: string, max: number, source: 'header' | 'string' | 'params', unscanned = false): Credential {
  if (token === '') return MALFORMED;
  if (token.length > max) return { token: null, reason: SignedOutReason.TokenTooLarge };
  return { token, source, unscanned };
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
 * Connection parameters first; a token there must agree with the request's own Authorization header
 * (a second, different credential is refused, never silently dropped). The request's cookie is not
 * consulted when the parameters carry a token.
 */
function fromConnection(input: ConnectionInput, rules: CredentialRules): Credential {
  const request = input.request ?? null;
  const fromParams = paramsCredential(input.connectionParams, rules.maxTokenLength);
  if (fromParams === null) return request !== null ? fromHeaders(headerView(request), rules) : MISSING;
  if (fromParams.token === null || request === null) return fromParams;
  const own = headerView(request).authorization;
  if (own.length === 0) return fromParams;
  const ownCredential = fromHeaders({ authorization: own, cookie: noCookies }, rules);
  return ownCredential.token === fromParams.token ? fromParams : MULTIPLE;
}

const noCookies = (): CookieHeaders => ({ cookie: undefined, origin: undefined, host: undefined, secFetchSite: undefined });

/**
 * The credential in connection parameters, or `null` when they carry none: `token`, `authorization`
 * (any case) and `headers.authorization` (any case); `null`, `undefined` and blank values count as
 * absent.
 */
function paramsCredential(params: unknown, max: number): Credential | null {
  if (params === null || typeof params !== 'object') return null;
  const values: unknown[] = [];
  const record = params as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const name = key.toLowerCase();
    if (name === 'token' || name === 'authorization') {
      values.push(record[key]);
    } else if (name === 'headers') {
      const headers = record[key];
      if (headers === null || typeof headers !== 'object') continue;
      const nested = headers as Record<string, unknown>;
      for (const inner of Object.keys(nested)) if (inner.toLowerCase() === 'authorization') values.push(nested[inner]);
    }
  }
  let found: Credential | null = null;
  for (const value of values) {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) continue;
    const credential = fromAuthorization(value, max, 'params');
    if (credential.token === null) return credential;
    if (found !== null && found.token !== credential.token) return MULTIPLE;
    found = credential;
  }
  return found;
}

/**
 * The `__session` cookie is read only for same-origin requests: a browser's cross-site request
 * (`Sec-Fetch-Site` other than `same-origin` / `none`, or an `Origin` that is not this host) never
 * authenticates by cookie.
 */
function isSameOrigin(h: CookieHeaders): boolean {
  if (h.secFetchSite !== undefined && h.secFetchSite !== 'same-origin' && h.secFetchSite !== 'none') return false;
  if (h.origin === undefined) return true;
  if (h.origin === 'null') return false;
  let originHost: string;
  try {
    originHost = new URL(h.origin).host;
  } catch {
    return false;
  }
  return !!h.host && originHost.toLowerCase() === h.host.toLowerCase();
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

/**
 * Node's `IncomingMessage` (it has `rawHeaders`) lower-cases `headers`: read directly. Any other
 * object with `headers` (an AWS Lambda / API Gateway v1 or ALB event, a hand-built request) keeps
 * names as sent: read case-insensitively.
 */
function nodeHeaders(req: NodeLikeRequest): HeaderView {
  if (!Array.isArray(req.rawHeaders)) return plainHeaders(req);
  return {
    authorization: nodeAuthorization(req.rawHeaders),
    // `headers` is a getter that builds an object of every header on first access: only the
    // cookie path pays for it.
    cookie: () => {
      const headers = req.headers ?? {};
      return {
        cookie: single(headers.cookie, '; '),
        origin: single(headers.origin),
        host: single(headers.host),
        secFetchSite: single(headers['sec-fetch-site']),
      };
    },
  };
}

/**
 * Node keeps only the first Authorization header in `headers`; the raw view shows them all (and is
 * cheaper to scan than `headersDistinct`, which builds a map of every header on first access).
 */
function nodeAuthorization(raw: string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') values.push(raw[i + 1] as string);
  }
  return values;
}

const WANTED = new Set(['authorization', 'cookie', 'origin', 'host', 'sec-fetch-site']);

/**
 * Plain-object headers, one pass over the names. The same header under two spellings
 * (`authorization` and `Authorization`) counts once when both say the same, and as two headers when
 * they differ.
 */
function plainHeaders(req: NodeLikeRequest): HeaderView {
  const headers = req.headers ?? {};
  const found = new Map<string, unknown[]>();
  for (const key of Object.keys(headers)) {
    const name = key.toLowerCase();
    if (!WANTED.has(name)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    const values: unknown[] = Array.isArray(raw) ? raw : [raw];
    const seen = found.get(name);
    if (seen === undefined) found.set(name, values);
    else if (!sameValues(seen, values)) found.set(name, [...seen, ...values]);
  }
  const distinct = req.headersDistinct?.authorization;
  const joined = (name: string, joiner: string): string | undefined => {
    const values = found.get(name);
    return values === undefined ? undefined : values.map(String).join(joiner);
  };
  return {
    authorization: distinct ?? found.get('authorization') ?? [],
    cookie: () => ({
      cookie: joined('cookie', '; '),
      // Conflicting spellings join into a value that matches nothing, so the cookie is not read.
      origin: joined('origin', ', '),
      host: joined('host', ', '),
      secFetchSite: joined('sec-fetch-site', ', '),
    }),
  };
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function single(value: string | string[] | undefined, joiner?: string): string | undefined {
  if (Array.isArray(value)) return joiner !== undefined ? value.join(joiner) : value[0];
  return value;
}
