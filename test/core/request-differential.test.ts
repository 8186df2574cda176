/**
 * Request-level differential test: whole requests, not just tokens, through the core's
 * `authenticate` and through @clerk/backend's own `authenticateRequest` (+ `toAuth()`), on a
 * combinatorial corpus: where the credential is (Authorization header in several spellings, the
 * `__session` cookie, suffixed cookies, both, two of them), `__client_uat` (absent, 0, older or newer
 * than the token), Origin / Sec-Fetch-Site (absent, same-origin, cross-site, none), development and
 * production instances, the dev-browser cookie, every token kind (session in several states, M2M and
 * OAuth JWTs, a JWT template, opaque `ak_` / `mt_` / `oat_`), under every `acceptsToken`.
 *
 * Compared: signed in or not, the auth object's token type, userId / sessionId / machine subject,
 * the session status, and the reason where both give one (Clerk's names mapped onto ours in
 * `CLERK_REASONS`). Every difference must be explained by exactly the rule of one entry of
 * `DELIBERATE` (each entry must explain at least one request, so the table cannot go stale).
 *
 * Signed-out auth objects: the core's signed-out object is built by `authObjectFor`
 * (src/core/accepted-auth.ts) once it is wired into the verifier; here the object `authObjectFor`
 * gives for the presented token is compared with Clerk's.
 *
 * Nothing leaves the machine: the JWT key is given (no JWKS), opaque tokens go to the loopback
 * Backend API stand-in (one per side, so call counts can be compared).
 */
import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { getCookieSuffix } from '@clerk/shared/keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AcceptsToken, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type OpaqueTokenRecord, type TestIssuer } from 'clerk-api-auth/testing';
import { authObjectFor } from '../../src/core/accepted-auth.js';
import { presentedKind } from '../../src/core/token-kind.js';
import type { TokenKind } from '../../src/core/types.js';

const ORIGIN = 'https://api.example.test';
const PARTY = 'http://localhost:3000';
const now = () => Math.floor(Date.now() / 1000);

/** Clerk's reason names, where they differ from ours, mapped onto ours. */
const CLERK_REASONS: Array<[string | RegExp, string]> = [
  ['session-token-and-uat-missing', 'token-missing'],
  ['client-uat-but-no-session-token', 'token-missing'],
  ['No token in header', 'token-missing'],
  [/^session-token-expired-refresh-/, 'token-expired'],
  ['session-token-nbf', 'token-not-active-yet'],
  ['session-token-iat-in-the-future', 'token-iat-in-the-future'],
];

function clerkReasonAsOurs(reason: string | null): string | null {
  if (reason === null) return null;
  for (const [pattern, ours] of CLERK_REASONS) if (typeof pattern === 'string' ? pattern === reason : pattern.test(reason)) return ours;
  return reason;
}

type Carrier =
  | 'bearer'
  | 'bearer-lowercase'
  | 'bare-header'
  | 'basic-header+cookie'
  | 'two-headers-same'
  | 'two-headers-different'
  | 'header+cookie-same'
  | 'header+cookie-other'
  | 'cookie'
  | 'two-session-cookies'
  | 'none';
type Uat = 'absent' | 'zero' | 'older' | 'newer';
type Site = 'absent' | 'same-origin' | 'same-site' | 'cross-site' | 'none';
type Layout = 'plain' | 'suffixed' | 'both' | 'signed-out-suffixed';

interface TokenCase {
  name: string;
  value: string;
  /** What the token says it is (Clerk's sorting), for the signed-out auth object. */
  kind: TokenKind;
  iat: number;
}

interface Scenario {
  id: number;
  token: TokenCase;
  accepts: AcceptsToken;
  carrier: Carrier;
  uat: Uat;
  site: Site;
  instance: 'development' | 'production';
  devBrowser: boolean;
  layout: Layout;
  method: 'GET' | 'POST';
}

/** What a request decided, in the terms both sides can be compared in. */
interface Outcome {
  signedIn: boolean;
  tokenType: string | null;
  userId?: string | null;
  sessionId?: string | null;
  subject?: string | null;
  sessionStatus?: string | null;
  /** Our reason names (Clerk's mapped); `null` when signed in or when Clerk gives none. */
  reason: string | null;
  threw?: boolean;
}

interface Deliberate {
  /** Short name, copied to the README. */
  id: string;
  /** Why we differ. */
  why: string;
  /** Whether this entry explains the difference on this request (a precise rule, not "anything goes"). */
  explains(s: Scenario, clerk: Outcome, ours: Outcome, rerun: Rerun): Promise<boolean>;
}

/** Clerk's outcome for the same request with some dimensions changed (`capitalBearer`: the scheme spelt `Bearer`). */
type Rerun = (changes: Partial<Scenario> & { capitalBearer?: boolean }) => Promise<Outcome>;

/**
 * Whether ours agrees with Clerk's `clerk` on scenario `s`, or differs only as one DELIBERATE entry
 * explains; returns the entry's id, `null` when they agree, `undefined` when nothing explains it.
 */
async function explanation(s: Scenario, clerk: Outcome, ours: Outcome, rerun: Rerun): Promise<string | null | undefined> {
  if (agrees(clerk, ours)) return null;
  const [c, o] = comparable(clerk, ours);
  for (const d of DELIBERATE) if (await d.explains(s, c, o, rerun)) return d.id;
  return undefined;
}

const HEADER_CARRIERS: readonly Carrier[] = ['bearer', 'bearer-lowercase', 'bare-header', 'basic-header+cookie', 'two-headers-same', 'two-headers-different', 'header+cookie-same', 'header+cookie-other'];
const hasHeader = (c: Carrier) => HEADER_CARRIERS.includes(c);
const cookieCarriesToken = (c: Carrier) => c === 'cookie' || c === 'basic-header+cookie' || c === 'two-session-cookies';
const acceptsSession = (a: AcceptsToken) => a === 'any' || a === 'session_token' || (Array.isArray(a) && a.includes('session_token'));
const same = (a: Outcome, b: Outcome) => JSON.stringify(a) === JSON.stringify(b);
/** Whether Clerk's outcome and ours agree, in comparable terms (see `comparable`). */
const agrees = (clerk: Outcome, ours: Outcome) => same(...comparable(clerk, ours));

/**
 * Every deliberate difference between the core and @clerk/backend on requests. The lead copies this
 * table to the README.
 */
const DELIBERATE: Deliberate[] = [
  {
    id: 'case-insensitive Bearer',
    why: 'RFC 7235: the scheme is case-insensitive, so `bearer <token>` is read as `Bearer <token>`. Clerk reads only `Bearer` and otherwise ignores the header (falling back to the cookie).',
    // Ours equals Clerk's answer to the same request spelt `Bearer` (up to the other deliberate differences).
    explains: async (s, _clerk, ours, rerun) =>
      s.carrier === 'bearer-lowercase' && (await explanation({ ...s, carrier: 'bearer' }, await rerun({ capitalBearer: true }), ours, rerun)) !== undefined,
  },
  {
    id: 'no bare token in the Authorization header',
    why: 'An Authorization header must be `Bearer <token>`; Clerk also takes a header without a space as the token itself. (A bare token is accepted where no scheme is expected: token strings and connection parameters.)',
    explains: async (s, _clerk, ours) => s.carrier === 'bare-header' && !ours.signedIn && ours.reason === 'malformed-authorization-header',
  },
  {
    id: 'a non-Bearer Authorization header is refused',
    why: 'Clerk ignores an Authorization header of another scheme and reads the cookie instead; we refuse it (401), never reading a second credential behind it.',
    explains: async (s, _clerk, ours) => s.carrier === 'basic-header+cookie' && !ours.signedIn && ours.reason === 'malformed-authorization-header',
  },
  {
    id: 'two Authorization headers are refused',
    why: 'Two Authorization headers (joined by fetch into `Bearer a, Bearer b`) are refused as `multiple-authorization-headers`; Clerk reads `a,` as the token.',
    explains: async (s, _clerk, ours) => s.carrier.startsWith('two-headers') && !ours.signedIn && ours.reason === 'multiple-authorization-headers',
  },
  {
    id: 'same-origin-only cookie',
    why: 'The `__session` cookie is read only on same-origin requests (Sec-Fetch-Site `same-origin`/`none` or absent, Origin equal to the host or absent); Clerk reads it from any origin and relies on `azp` alone. A cross-site request is treated as carrying no credential.',
    explains: async (s, _clerk, ours, rerun) =>
      (s.site === 'cross-site' || s.site === 'same-site') && !hasHeader(s.carrier) && !ours.signedIn && ours.reason === 'token-missing' && (await rerun({ site: 'same-origin' })).reason !== 'token-missing',
  },
  {
    id: 'a cookie sent twice is ambiguous',
    why: 'A `__session` (or `__client_uat`) cookie sent twice with different values (e.g. one per path or domain) is read as absent, so it never signs anyone in; Clerk takes the first.',
    explains: async (s, _clerk, ours) => s.carrier === 'two-session-cookies' && !ours.signedIn,
  },
  {
    id: 'no dev-browser requirement',
    why: 'On a development instance Clerk signs out a cookie request without a `__clerk_db_jwt` dev-browser cookie (`dev-browser-missing`) so that a page navigation can handshake to set it; the value is never verified, so for an API it proves nothing. We judge the request as Clerk does once the dev browser is there.',
    explains: async (s, clerk, ours, rerun) =>
      s.instance === 'development' && !s.devBrowser && clerk.reason === 'dev-browser-missing' && (await explanation({ ...s, devBrowser: true }, await rerun({ devBrowser: true }), ours, rerun)) !== undefined,
  },
  {
    id: 'no credential for a list without session_token is token-missing',
    why: 'With `acceptsToken` a list of machine kinds and no Authorization header, Clerk answers `token-type-mismatch` (it treats "no header" as a session); we answer `token-missing`: nothing was presented, so it is not a rejected credential. The auth object is the same (`tokenType: null`).',
    explains: async (s, clerk, ours) => Array.isArray(s.accepts) && !acceptsSession(s.accepts) && !hasHeader(s.carrier) && clerk.reason === 'token-type-mismatch' && ours.reason === 'token-missing' && clerk.tokenType === ours.tokenType,
  },
  {
    id: 'an opaque machine token where only sessions are accepted is token-type-mismatch',
    why: 'With `acceptsToken: "session_token"`, Clerk tries an `ak_`/`mt_`/`oat_` header token as a JWT (`token-invalid`); we name what it is (`token-type-mismatch`). Both refuse it without a Backend API call.',
    explains: async (s, clerk, ours) => s.accepts === 'session_token' && /^(ak|mt|oat)_/.test(s.token.value) && clerk.reason === 'token-invalid' && ours.reason === 'token-type-mismatch' && !ours.signedIn,
  },
  {
    id: 'a non-token where no session is accepted is token-invalid',
    why: 'Where only machine kinds are accepted, Clerk calls a header value that is neither opaque nor a machine JWT `token-type-mismatch` (it takes it for a session token) even when it is no token at all; we call such garbage `token-invalid` (decided in src/core/verify.ts). Both refuse it; the auth object is the same.',
    explains: async (s, clerk, ours) =>
      !acceptsSession(s.accepts) && s.token.name === 'garbage' && clerk.reason === 'token-type-mismatch' && ours.reason === 'token-invalid' && !ours.signedIn && clerk.tokenType === ours.tokenType,
  },
];

let issuer: TestIssuer;
let otherInstance: TestIssuer;
let stranger: TestIssuer;
let clerkApi: FakeClerkApi;
let ourApi: FakeClerkApi;
const tokens: TokenCase[] = [];
let bob = '';
let otherInstanceSession = '';
const keys: Record<Scenario['instance'], { publishableKey: string; suffix: string; clerk: ClerkClient; ours: [ClerkAuth, ClerkAuth] }> = {} as never;

function iatOf(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { iat?: unknown };
    return typeof payload.iat === 'number' ? payload.iat : now();
  } catch {
    return now();
  }
}

beforeAll(async () => {
  [issuer, stranger, otherInstance] = await Promise.all([createTestIssuer(), createTestIssuer(), createTestIssuer({ frontendApi: 'clerk.other.test' })]);
  [clerkApi, ourApi] = await Promise.all([startFakeClerkApi({ issuer }), startFakeClerkApi({ issuer })]);
  const iat = now();
  const raw = { iss: issuer.issuerUrl, sub: 'user_raw', sid: 'sess_raw', iat, nbf: iat - 5, exp: iat + 600, azp: PARTY, v: 2, sts: 'active' };
  const oauthOpaque: OpaqueTokenRecord = {
    token: 'oat_differentialopaqueoauthtoken0001',
    type: 'oauth_token',
    id: 'oat_id_differential',
    subject: 'user_oauth_opaque',
    scopes: ['read'],
    claims: null,
    name: '',
    clientId: 'client_differential',
    expiresAt: null,
    revoked: false,
  };
  // The issuer registers opaque API keys and M2M tokens; an opaque OAuth token is added to the same
  // registry the stand-in answers from.
  (issuer.opaqueTokens as Map<string, OpaqueTokenRecord>).set(oauthOpaque.token, oauthOpaque);
  const minted: Array<[string, string]> = [
    ['session', await issuer.sessionToken({ userId: 'user_alice', sessionId: 'sess_alice', azp: PARTY, expiresInSeconds: 600 })],
    ['session with org', await issuer.sessionToken({ userId: 'user_carol', azp: PARTY, org: { id: 'org_1', role: 'admin', permissions: ['org:notes:read'] }, expiresInSeconds: 600 })],
    ['session expired', await issuer.sessionToken({ userId: 'user_alice', azp: PARTY, expiresInSeconds: -60 })],
    ['session not yet valid', await issuer.sessionToken({ userId: 'user_alice', azp: PARTY, notBeforeOffsetSeconds: 120, expiresInSeconds: 600 })],
    ['session pending', await issuer.sessionToken({ userId: 'user_alice', azp: PARTY, status: 'pending', expiresInSeconds: 600 })],
    ['session other key', await stranger.sessionToken({ userId: 'user_alice', azp: PARTY, expiresInSeconds: 600 })],
    ['session other party', await issuer.sessionToken({ userId: 'user_alice', azp: 'https://evil.example', expiresInSeconds: 600 })],
    ['m2m jwt', await issuer.m2mToken({ machineId: 'mch_billing', scopes: ['mch_api'] })],
    ['oauth jwt', await issuer.oauthToken({ userId: 'user_oauth', clientId: 'client_1', scopes: ['read'] })],
    ['jwt template', await issuer.sign(raw, { alg: 'RS256', typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD222AAA' })],
    ['api key', issuer.apiKey({ subject: 'user_apikey', scopes: ['notes:read'] }).token],
    ['opaque m2m', issuer.opaqueM2mToken({ machineId: 'mch_opaque' }).token],
    ['opaque oauth', oauthOpaque.token],
    ['unknown opaque m2m', `mt_${'u'.repeat(40)}`],
    ['garbage', 'garbage'],
  ];
  for (const [name, value] of minted) tokens.push({ name, value, kind: presentedKind(value), iat: iatOf(value) });
  bob = await issuer.sessionToken({ userId: 'user_bob', azp: PARTY, expiresInSeconds: 600 });
  otherInstanceSession = await otherInstance.sessionToken({ userId: 'user_elsewhere', azp: PARTY, expiresInSeconds: 600 });

  const encoded = issuer.publishableKey.slice('pk_test_'.length);
  for (const [instance, publishableKey] of [['development', issuer.publishableKey], ['production', `pk_live_${encoded}`]] as const) {
    const common = { jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, publishableKey, authorizedParties: [PARTY] };
    keys[instance] = {
      publishableKey,
      suffix: await getCookieSuffix(publishableKey),
      clerk: createClerkClient({ ...common, apiUrl: clerkApi.apiUrl }),
      ours: [createClerkAuth({ ...common, apiUrl: ourApi.apiUrl, env: {}, cache: false }), createClerkAuth({ ...common, apiUrl: ourApi.apiUrl, env: {} })],
    };
  }
}, 60_000);
afterAll(async () => {
  await Promise.all([clerkApi?.close(), ourApi?.close()]);
});

function cookieHeader(s: Scenario, sessionToken: string | null): string | null {
  const { suffix } = keys[s.instance];
  const uat = s.uat === 'absent' ? null : s.uat === 'zero' ? '0' : String(s.token.iat + (s.uat === 'older' ? -100 : 100));
  const parts: string[] = [];
  const pair = (name: string) => {
    if (sessionToken !== null) parts.push(`${name === '' ? '__session' : `__session_${name}`}=${sessionToken}`);
    if (uat !== null) parts.push(`${name === '' ? '__client_uat' : `__client_uat_${name}`}=${uat}`);
  };
  if (s.layout === 'plain') pair('');
  if (s.layout === 'suffixed') pair(suffix);
  if (s.layout === 'both') {
    // The unsuffixed pair belongs to another instance on the same domain: Clerk reads the suffixed one.
    if (sessionToken !== null) parts.push(`__session=${otherInstanceSession}`);
    if (uat !== null) parts.push(`__client_uat=${uat}`);
    pair(suffix);
  }
  if (s.layout === 'signed-out-suffixed') {
    // The suffixed client signed out (`__client_uat_<suffix>=0`, a stale token): Clerk reads the unsuffixed pair.
    pair('');
    parts.push(`__session_${suffix}=${bob}`, `__client_uat_${suffix}=0`);
  }
  // clerk-js sets the dev-browser cookie under both names, as it does the session pair.
  if (s.devBrowser) parts.push('__clerk_db_jwt=dvb_differential', `__clerk_db_jwt_${suffix}=dvb_differential`);
  parts.push('theme=dark');
  return parts.length > 0 ? parts.join('; ') : null;
}

function requestOf(s: Scenario, capitalBearer = false): Request {
  const t = s.token.value;
  const headers = new Headers();
  const scheme = capitalBearer ? 'Bearer' : s.carrier === 'bearer-lowercase' ? 'bearer' : 'Bearer';
  switch (s.carrier) {
    case 'bearer':
    case 'bearer-lowercase':
      headers.append('authorization', `${scheme} ${t}`);
      break;
    case 'bare-header':
      headers.append('authorization', t);
      break;
    case 'basic-header+cookie':
      headers.append('authorization', 'Basic dXNlcjpwYXNz');
      break;
    case 'two-headers-same':
      headers.append('authorization', `Bearer ${t}`);
      headers.append('authorization', `Bearer ${t}`);
      break;
    case 'two-headers-different':
      headers.append('authorization', `Bearer ${t}`);
      headers.append('authorization', `Bearer ${bob}`);
      break;
    case 'header+cookie-same':
    case 'header+cookie-other':
      headers.append('authorization', `Bearer ${t}`);
      break;
    default:
      break;
  }
  const cookieToken = cookieCarriesToken(s.carrier) || s.carrier === 'header+cookie-same' ? t : s.carrier === 'header+cookie-other' ? bob : null;
  let cookie = cookieHeader(s, cookieToken);
  // A second session cookie, of another user, before the first (as another path's cookie comes first).
  if (s.carrier === 'two-session-cookies') cookie = `__session=${bob}; __session_${keys[s.instance].suffix}=${bob}; ${cookie}`;
  if (cookie !== null) headers.set('cookie', cookie);
  if (s.site === 'same-origin') {
    headers.set('origin', ORIGIN);
    headers.set('sec-fetch-site', 'same-origin');
  } else if (s.site === 'same-site') {
    headers.set('origin', 'https://app.example.test');
    headers.set('sec-fetch-site', 'same-site');
  } else if (s.site === 'cross-site') {
    headers.set('origin', 'https://evil.example');
    headers.set('sec-fetch-site', 'cross-site');
  } else if (s.site === 'none') {
    headers.set('sec-fetch-site', 'none');
  }
  headers.set('sec-fetch-dest', 'empty');
  return new Request(`${ORIGIN}/notes`, { method: s.method, headers, ...(s.method === 'POST' && { body: '{}' }) });
}

interface AuthLike {
  isAuthenticated?: boolean;
  tokenType?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  subject?: string | null;
  sessionStatus?: string | null;
}

function outcomeOf(auth: AuthLike | null | undefined, reason: string | null): Outcome {
  const signedIn = auth?.isAuthenticated === true;
  const tokenType = auth?.tokenType ?? null;
  const out: Outcome = { signedIn, tokenType, reason: signedIn ? null : reason };
  if (tokenType === 'session_token') {
    out.userId = auth?.userId ?? null;
    out.sessionId = auth?.sessionId ?? null;
    out.sessionStatus = auth?.sessionStatus ?? null;
  } else if (tokenType !== null) {
    out.subject = auth?.subject ?? null;
  }
  return out;
}

async function clerkOutcome(s: Scenario, request: Request): Promise<Outcome> {
  try {
    const state = await keys[s.instance].clerk.authenticateRequest(request, { acceptsToken: s.accepts as never, authorizedParties: [PARTY] });
    const auth = state.toAuth() as AuthLike | null;
    return outcomeOf(auth, clerkReasonAsOurs(state.reason ?? null));
  } catch {
    return { signedIn: false, tokenType: null, reason: null, threw: true };
  }
}

/** The kind of the credential our reader takes from the request (for the signed-out auth object). */
function presentedIn(s: Scenario): TokenKind | null {
  if (['bearer', 'bearer-lowercase', 'header+cookie-same', 'header+cookie-other'].includes(s.carrier)) return s.token.kind;
  if (cookieCarriesToken(s.carrier)) return s.carrier === 'cookie' ? 'session_token' : null;
  return null;
}

/** Signed-out requests whose pipeline auth object (verify.ts's `signedOut`) differs from `authObjectFor`'s, until the lead wires it. */
let pipelineAuthDiffers = 0;

function ourOutcome(s: Scenario, result: AuthenticateResult): Outcome {
  if (result.auth.isAuthenticated) return outcomeOf(result.auth as AuthLike, result.reason);
  const status = result.auth.tokenType === 'session_token' && result.auth.sessionStatus === 'pending' ? 'pending' : undefined;
  // Clerk's signed-out auth object for this call, as `authObjectFor` builds it.
  const expected = authObjectFor(s.accepts, presentedIn(s), status);
  if (expected.tokenType !== result.auth.tokenType) pipelineAuthDiffers++;
  return outcomeOf(expected as AuthLike, result.reason);
}

function comparable(clerk: Outcome, ours: Outcome): [Outcome, Outcome] {
  // Clerk gives no reason for a pending session (its state is "signed in", `toAuth()` signed out).
  if (clerk.reason === null && !clerk.signedIn && clerk.sessionStatus === 'pending' && ours.reason === 'session-pending') return [clerk, { ...ours, reason: null }];
  return [clerk, ours];
}

function corpus(): Scenario[] {
  const out: Scenario[] = [];
  const ACCEPTS: AcceptsToken[] = ['session_token', 'm2m_token', 'oauth_token', 'api_key', ['session_token', 'm2m_token'], ['api_key', 'oauth_token'], 'any'];
  const UATS: Uat[] = ['absent', 'zero', 'older', 'newer'];
  const SITES: Site[] = ['absent', 'same-origin', 'same-site', 'cross-site', 'none'];
  const LAYOUTS: Layout[] = ['plain', 'suffixed', 'both', 'signed-out-suffixed'];
  let id = 0;
  const add = (s: Omit<Scenario, 'id' | 'instance' | 'devBrowser' | 'layout' | 'method'> & Partial<Scenario>) => {
    const n = id++;
    out.push({
      id: n,
      instance: n % 2 === 0 ? 'development' : 'production',
      devBrowser: n % 7 !== 0,
      layout: LAYOUTS[Math.floor(n / 2) % LAYOUTS.length] as Layout,
      method: n % 5 === 0 ? 'POST' : 'GET',
      ...s,
    } as Scenario);
  };
  // The cookie, in full: every token × acceptsToken × __client_uat × Origin / Sec-Fetch-Site.
  for (const token of tokens) for (const accepts of ACCEPTS) for (const uat of UATS) for (const site of SITES) add({ token, accepts, carrier: 'cookie', uat, site });
  // The Authorization header in every spelling, alone and with a cookie.
  for (const token of tokens) for (const accepts of ACCEPTS) for (const carrier of HEADER_CARRIERS) add({ token, accepts, carrier, uat: 'older', site: SITES[id % SITES.length] as Site });
  // Two session cookies.
  for (const token of tokens) for (const accepts of ACCEPTS.filter(acceptsSession)) for (const uat of ['older', 'newer'] as const) add({ token, accepts, carrier: 'two-session-cookies', uat, site: 'same-origin' });
  // Valid session cookies in every layout, instance, dev-browser state and method.
  for (const token of tokens.filter((t) => t.name === 'session' || t.name === 'session with org'))
    for (const accepts of ACCEPTS.filter(acceptsSession))
      for (const uat of UATS)
        for (const layout of LAYOUTS)
          for (const instance of ['development', 'production'] as const)
            for (const devBrowser of [true, false])
              for (const site of ['absent', 'same-origin', 'none'] as const) add({ token, accepts, carrier: 'cookie', uat, site, layout, instance, devBrowser, method: id % 2 === 0 ? 'GET' : 'POST' });
  // No session token at all, with and without __client_uat.
  for (const accepts of ACCEPTS) for (const uat of UATS) for (const site of SITES) add({ token: tokens[0] as TokenCase, accepts, carrier: 'none', uat, site });
  return out;
}

describe('request differential: clerk-api-auth vs @clerk/backend authenticateRequest', () => {
  it('decides every request as Clerk does, except the deliberate differences', async () => {
    const scenarios = corpus();
    expect(scenarios.length).toBeGreaterThan(2000);
    const mismatches: string[] = [];
    const explained = new Map<string, number>(DELIBERATE.map((d) => [d.id, 0]));
    let signedInBoth = 0;
    let clerkThrew = 0;
    const byKind = new Map<string, number>();
    let cookieBlockChecked = false;
    for (const s of scenarios) {
      if (!cookieBlockChecked && s.carrier !== 'cookie') {
        // Every cookie request so far, opaque tokens and `acceptsToken: 'any'` included: not one
        // Backend API call on either side.
        expect(ourApi.requestCount).toBe(0);
        expect(clerkApi.requestCount).toBe(0);
        cookieBlockChecked = true;
      }
      const clerkRaw = await clerkOutcome(s, requestOf(s));
      const [plain, cached] = keys[s.instance].ours;
      const oursPlain = ourOutcome(s, await plain.authenticate(requestOf(s), { acceptsToken: s.accepts }));
      const oursCached = ourOutcome(s, await cached.authenticate(requestOf(s), { acceptsToken: s.accepts }));
      const oursHit = ourOutcome(s, await cached.authenticate(requestOf(s), { acceptsToken: s.accepts }));
      if (clerkRaw.threw) {
        // @clerk/backend throws on some malformed input; its decision is "not signed in".
        clerkThrew++;
        if (oursPlain.signedIn) mismatches.push(`#${s.id} Clerk threw, we signed in: ${describeScenario(s)}`);
        continue;
      }
      for (const [label, ours] of [['no cache', oursPlain], ['cache miss', oursCached], ['cache hit', oursHit]] as const) {
        const rerun: Rerun = async (changes) => {
          const { capitalBearer, ...rest } = changes;
          const changed = { ...s, ...rest };
          return clerkOutcome(changed, requestOf(changed, capitalBearer));
        };
        const why = await explanation(s, clerkRaw, ours, rerun);
        if (why === undefined) mismatches.push(`#${s.id} ${label} ${describeScenario(s)}: clerk=${JSON.stringify(clerkRaw)} ours=${JSON.stringify(ours)}`);
        else if (why !== null && label === 'no cache') explained.set(why, (explained.get(why) ?? 0) + 1);
      }
      if (clerkRaw.signedIn && oursPlain.signedIn) {
        signedInBoth++;
        byKind.set(clerkRaw.tokenType as string, (byKind.get(clerkRaw.tokenType as string) ?? 0) + 1);
      }
    }
    console.info(
      `request differential: ${scenarios.length} requests, ${signedInBoth} signed in on both sides (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}), ` +
        `${clerkThrew} Clerk throws, ${pipelineAuthDiffers} signed-out auth objects of verify.ts's signedOut differ from authObjectFor; deliberate: ${[...explained].map(([k, n]) => `${k} ${n}`).join('; ')}`,
    );
    expect(mismatches.slice(0, 8)).toEqual([]);
    // Every deliberate difference shows up in the corpus: the table is not stale.
    for (const [id, count] of explained) expect(count, id).toBeGreaterThan(0);
    // Both outcomes in earnest, every kind signed in somewhere.
    expect(signedInBoth).toBeGreaterThan(200);
    for (const kind of ['session_token', 'm2m_token', 'oauth_token', 'api_key']) expect(byKind.get(kind), kind).toBeGreaterThan(0);
    expect(clerkThrew).toBeLessThan(scenarios.length / 50);
    // Opaque tokens in the Authorization header did reach the (loopback) Backend API on both sides;
    // neither side fetched a JWKS (the JWT key is given).
    expect(cookieBlockChecked).toBe(true);
    for (const route of ['api_keys.verify', 'm2m_tokens.verify', 'oauth.verify']) {
      expect(ourApi.count(route), route).toBeGreaterThan(0);
      expect(clerkApi.count(route), route).toBeGreaterThan(0);
    }
    expect(clerkApi.count('jwks') + ourApi.count('jwks')).toBe(0);
  }, 120_000);
});

function describeScenario(s: Scenario): string {
  return `[${s.token.name} | accepts ${JSON.stringify(s.accepts)} | ${s.carrier} | uat ${s.uat} | site ${s.site} | ${s.instance}${s.devBrowser ? '' : ' no-dev-browser'} | ${s.layout} | ${s.method}]`;
}
