
/**
 * Differential test: the core's decision and auth fields equal @clerk/backend's own
 * `authenticateRequest` + `toAuth()` on a generated corpus of more than 10,000 tokens (valid, expired,
 * not yet valid, wrong key, wrong azp, organization claims of every shape, machine tokens, malformed),
 * with the verified-token cache off and on.
 *
 * Documented deliberate differences, excluded by construction: case-insensitive Bearer (we send
 * `Bearer`), 4096-bit keys (we use 2048), no publishable key needed (Clerk gets one here), and tokens
 * outside base64url (`=` padding): Clerk's loose decoder accepts a padded signature; we refuse it
 * (counted below, never the other way round). Where @clerk/backend throws on a malformed token
 * (a TypeError on a `null` payload), its decision counts as "signed out".
 *
 * The corpus includes RS384/RS512 signatures made with the instance's own key (the key verifies RS256
 * only: both sides refuse them), and a second test pins the exact reason in PEM and JWKS modes.
 * Another deliberate difference, outside this corpus (see test/core/scopes.test.ts): for an M2M JWT
 * whose `aud` is a single string, Clerk's `scopes` is that string; ours is a one-element list.
 */
import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AcceptsToken, type ClerkAuth, type ClerkAuthObject } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type SessionTokenOptions, type TestIssuer } from 'clerk-api-auth/testing';
import { prng } from '../support/prng.js';

const PARTIES = ['https://app.example.com'];
let issuer: TestIssuer;
let stranger: TestIssuer;

const random = prng(20261122);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const chance = (p: number) => random() < p;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const ROLES = ['admin', 'member', 'org:viewer', 'billing_manager'];
const PERMISSIONS = ['org:notes:create', 'org:notes:read', 'org:notes:delete', 'org:billing:read', 'org:billing:manage', 'org:sys_memberships:read'];
const FEATURES = ['u:export', 'o:analytics', 'u:beta', 'ou:shared'];
const PLANS = ['u:free', 'u:pro', 'o:team'];
const AZPS = ['https://app.example.com', 'https://app.example.com', 'https://evil.example.com', null];
const HAS_CHECKS = [
  { role: 'org:admin' },
  { role: 'org:member' },
  { permission: 'org:notes:create' },
  { permission: 'org:billing:manage' },
  { feature: 'export' },
  { feature: 'o:analytics' },
  { plan: 'pro' },
  { plan: 'o:team' },
  { reverification: 'strict' as const },
  { role: 'org:admin', permission: 'org:notes:read' },
];

function sessionOptions(): SessionTokenOptions {
  const options: SessionTokenOptions = { userId: `user_${Math.floor(random() * 1e6)}`, azp: pick(AZPS), claimsVersion: chance(0.2) ? 1 : 2 };
  if (chance(0.6)) {
    options.org = { id: `org_${Math.floor(random() * 100)}` };
    if (chance(0.6)) options.org.slug = pick(['acme', 'globex', 'initech']);
    if (chance(0.8)) options.org.role = pick(ROLES);
    if (chance(0.7)) options.org.permissions = PERMISSIONS.filter(() => chance(0.4));
  }
  if (chance(0.3)) options.features = FEATURES.filter(() => chance(0.5));
  if (chance(0.3)) options.plans = PLANS.filter(() => chance(0.5));
  if (chance(0.2)) options.factorVerificationAge = pick([[0, -1], [30, 5], [-1, -1], [2000, 2000]] as Array<[number, number]>);
  if (chance(0.1)) options.actor = { sub: 'user_support' };
  if (chance(0.2)) options.claims = { metadata: { role: pick(['admin', 'editor']) } };
  if (chance(0.05)) options.status = 'pending';
  const timing = random();
  if (timing < 0.1) options.expiresInSeconds = -(20 + Math.floor(random() * 3600)); // expired beyond the 5 s skew
  // (Expiry within the skew is covered in session.test.ts: here a token could cross the boundary
  // between Clerk's evaluation and ours.)
  else if (timing < 0.2) options.notBeforeOffsetSeconds = 60 + Math.floor(random() * 600);
  else if (timing < 0.25) {
    options.issuedAtOffsetSeconds = 60 + Math.floor(random() * 600);
    options.expiresInSeconds = 3600;
  } else options.expiresInSeconds = 120 + Math.floor(random() * 3600);
  return options;
}

async function signedToken(): Promise<string> {
  const r = random();
  if (r < 0.55) return issuer.sessionToken(sessionOptions());
  if (r < 0.62) return stranger.sessionToken(sessionOptions());
  if (r < 0.72) return issuer.m2mToken({ machineId: `mch_${Math.floor(random() * 100)}`, scopes: chance(0.5) ? ['mch_api'] : [], expiresInSeconds: chance(0.15) ? -60 : 600 });
  if (r < 0.75) return stranger.m2mToken();
  if (r < 0.82) return issuer.oauthToken({ userId: 'user_o', clientId: 'client_1', scopes: ['read', 'write'].filter(() => chance(0.5)), expiresInSeconds: chance(0.15) ? -60 : 600 });
  // Raw payloads and headers: categories, types, claim types, missing claims.
  const t = now();
  const payload: Record<string, unknown> = { sub: 'user_raw', sid: 'sess_raw', iat: t, nbf: t - 5, exp: t + 600, azp: 'https://app.example.com', v: 2 };
  const mutation = pick([
    'nosub', 'numsub', 'strexp', 'noexp', 'strnbf', 'striat', 'cat-template', 'cat-ignore', 'cat-m2m', 'typ-lower', 'typ-none', 'typ-at',
    'alg-384', 'alg-512', 'alg-384-on-rs256', 'm2m-rs384', 'm2m-rs512', 'oauth-rs384', 'oauth-rs512',
    'kid-missing', 'iss', 'aud', 'aud-list', 'm2m-cat-session',
  ]);
  const header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT', kid: issuer.kid };
  let signWith: 'RS256' | undefined;
  switch (mutation) {
    case 'nosub': delete payload.sub; break;
    case 'numsub': payload.sub = 42; break;
    case 'strexp': payload.exp = String(t + 600); break;
    case 'noexp': delete payload.exp; break;
    case 'strnbf': payload.nbf = 'yesterday'; break;
    case 'striat': payload.iat = '0'; break;
    case 'cat-template': header.cat = 'cl_B7d4PD222AAA'; break;
    case 'cat-ignore': header.cat = 'cl_I7d4PD111III'; break;
    case 'cat-m2m': header.cat = 'cl_B7d4PD333AAA'; break;
    case 'typ-lower': header.typ = 'jwt'; break;
    case 'typ-none': delete header.typ; break;
    case 'typ-at': header.typ = 'at+jwt'; payload.client_id = 'client_raw'; break;
    // RS384/RS512 signatures made with the instance's own key (the issuer signs with the header's
    // algorithm), and an RS256 signature under an RS384 header: the key verifies RS256 only.
    case 'alg-384': header.alg = 'RS384'; break;
    case 'alg-512': header.alg = 'RS512'; break;
    case 'alg-384-on-rs256': header.alg = 'RS384'; signWith = 'RS256'; break;
    case 'm2m-rs384': case 'm2m-rs512': payload.sub = 'mch_raw'; payload.jti = 'mt_raw'; header.cat = 'cl_B7d4PD333AAA'; header.alg = mutation === 'm2m-rs384' ? 'RS384' : 'RS512'; break;
    case 'oauth-rs384': case 'oauth-rs512': header.typ = 'at+jwt'; payload.client_id = 'client_raw'; header.alg = mutation === 'oauth-rs384' ? 'RS384' : 'RS512'; break;
    case 'kid-missing': delete header.kid; break;
    case 'iss': payload.iss = 'https://clerk.other.test'; break;
    case 'aud': payload.aud = 'api://other'; break;
    case 'aud-list': payload.aud = ['api://notes', 'x']; break;
    case 'm2m-cat-session': payload.sub = 'mch_raw'; header.cat = 'cl_B7d4PD111AAA'; break;
  }
  return issuer.sign(payload, header, signWith && { alg: signWith });
}

function derived(base: string[]): string[] {
  const out: string[] = [];
  for (const token of base) {
    const [h = '', p = '', s = ''] = token.split('.');
    const other = (pick(base).split('.')[1] ?? '');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    out.push(
      pick([
        () => token.slice(0, Math.floor(random() * token.length)),
        () => `${h}.${p}.${flip(s, Math.floor(random() * s.length))}`,
        () => `${h}.${flip(p, Math.floor(random() * p.length))}.${s}`,
        () => `${h}.${other}.${s}`,
        () => `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
        () => `${b64({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })}.${p}.${s}`,
        () => `${token}.${s}`,
        () => `${h}.${p}`,
        () => `${h}..${s}`,
        () => `${h}.${p}.${s}x`,
        () => `${h}.${Buffer.from('{"sub":').toString('base64url')}.${s}`,
        () => `${h}.${b64([1, 2])}.${s}`,
        () => `${h}.${b64(null)}.${s}`,
        () => 'mt_' + s.slice(0, 20),
        () => Buffer.from(token).toString('base64url'),
        () => `${h}.${p}.${s.slice(0, -2)}`,
      ])(),
    );
  }
  return out;
}

function fields(auth: ClerkAuthObject | null | undefined): unknown {
  if (!auth || !auth.isAuthenticated) return { signedIn: false };
  if (auth.tokenType === 'session_token') {
    const { userId, sessionId, sessionStatus, orgId, orgRole, orgSlug, orgPermissions, factorVerificationAge, actor, sessionClaims } = auth;
    return {
      tokenType: auth.tokenType,
      userId, sessionId, sessionStatus, orgId, orgRole, orgSlug, orgPermissions, factorVerificationAge, actor,
      sessionClaims: JSON.parse(JSON.stringify(sessionClaims)),
      has: HAS_CHECKS.map((check) => auth.has(check as never)),
    };
  }
  const { tokenType, id, subject, scopes } = auth;
  const extra = tokenType === 'm2m_token' ? { machineId: auth.machineId, claims: auth.claims } : tokenType === 'oauth_token' ? { userId: auth.userId, clientId: auth.clientId } : {};
  return { tokenType, id, subject, scopes, ...extra };
}

describe('differential: clerk-api-auth vs @clerk/backend authenticateRequest', () => {
  const corpus: string[] = [];
  // Opaque machine tokens (`mt_…`) send both sides to the Backend API: keep that on loopback.
  let api: FakeClerkApi;
  afterAll(() => api.close());
  beforeAll(async () => {
    [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
    api = await startFakeClerkApi({ issuer });
    const signed: string[] = [];
    for (let i = 0; i < 4200; i++) signed.push(await signedToken());
    corpus.push(...signed, ...derived(signed), ...derived(signed).slice(0, 2000));
  }, 120_000);

  it('agrees on every token', async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(10_000);
    const configs: Array<{ parties?: string[]; acceptsToken: AcceptsToken }> = [
      { acceptsToken: 'session_token' },
      { parties: PARTIES, acceptsToken: 'session_token' },
      { acceptsToken: 'any' },
      { parties: PARTIES, acceptsToken: ['session_token', 'm2m_token'] },
      { acceptsToken: 'm2m_token' },
      { acceptsToken: 'oauth_token' },
    ];
    const clerks = new Map<string, ClerkClient>();
    const ours = new Map<string, [ClerkAuth, ClerkAuth]>();
    for (const { parties } of configs) {
      const key = String(parties);
      if (clerks.has(key)) continue;
      const options = { jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl, ...(parties && { authorizedParties: parties }) };
      clerks.set(key, createClerkClient({ ...options, publishableKey: issuer.publishableKey }));
      ours.set(key, [createClerkAuth({ ...options, env: {}, cache: false }), createClerkAuth({ ...options, env: {} })]);
    }
    const mismatches: string[] = [];
    let signedIn = 0;
    let paddedRefused = 0;
    let clerkThrew = 0;
    for (const [i, token] of corpus.entries()) {
      const config = configs[i % configs.length] as (typeof configs)[number];
      const clerk = clerks.get(String(config.parties)) as ClerkClient;
      const [plain, cached] = ours.get(String(config.parties)) as [ClerkAuth, ClerkAuth];
      const request = () => new Request('http://localhost/api', { headers: { authorization: `Bearer ${token}` } });
      let expected: unknown;
      try {
        const state = await clerk.authenticateRequest(request(), { acceptsToken: config.acceptsToken as never, ...(config.parties && { authorizedParties: config.parties }) });
        expected = fields(state.toAuth() as unknown as ClerkAuthObject | null);
      } catch {
        // @clerk/backend throws a TypeError for some malformed tokens (e.g. a `null` payload with
        // acceptsToken 'any'): a 500 in a naive server. Its decision is "not signed in"; ours too.
        clerkThrew++;
        expected = { signedIn: false };
      }
      const actual = fields((await plain.authenticate(request(), { acceptsToken: config.acceptsToken })).auth);
      const first = fields((await cached.authenticate(request(), { acceptsToken: config.acceptsToken })).auth);
      const hit = fields((await cached.authenticate(request(), { acceptsToken: config.acceptsToken })).auth);
      if ((expected as { signedIn?: boolean }).signedIn !== false) signedIn++;
      if (token.includes('=') && (actual as { signedIn?: boolean }).signedIn === false) {
        paddedRefused++;
        continue;
      }
      for (const [label, value] of [['no cache', actual], ['cache miss', first], ['cache hit', hit]] as const) {
        if (JSON.stringify(value) !== JSON.stringify(expected)) {
          mismatches.push(`#${i} ${label} ${JSON.stringify(config)}: clerk=${JSON.stringify(expected).slice(0, 300)} ours=${JSON.stringify(value).slice(0, 300)}`);
        }
      }
    }
    console.info(`differential: ${corpus.length} tokens, ${signedIn} signed in by Clerk, ${paddedRefused} padded refused, ${clerkThrew} Clerk throws`);
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The corpus exercises both outcomes in earnest.
    expect(signedIn).toBeGreaterThan(1000);
    expect(corpus.length - signedIn).toBeGreaterThan(4000);
    expect(paddedRefused).toBeLessThan(corpus.length / 50);
    expect(clerkThrew).toBeLessThan(corpus.length / 50);
    // Only opaque-token lookups reached the (loopback) Backend API; the JWT key made JWKS unnecessary.
    expect(api.count('jwks')).toBe(0);
  }, 180_000);

  it('RS384/RS512 signatures by the instance key: refused with the reason authenticateRequest gives, with a PEM key and with the JWKS', async () => {
    const t = now();
    const base = { iss: issuer.issuerUrl, iat: t, nbf: t - 5, exp: t + 600 };
    const cases: Array<[string, string]> = [];
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      cases.push(
        [`session ${alg}`, await issuer.sign({ ...base, sub: 'user_alg', sid: 'sess_alg', v: 2 }, { alg, typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD111AAA' })],
        [`m2m ${alg}`, await issuer.sign({ ...base, sub: 'mch_alg', jti: 'mt_alg' }, { alg, typ: 'JWT', kid: issuer.kid, cat: 'cl_B7d4PD333AAA' })],
        [`oauth ${alg}`, await issuer.sign({ ...base, sub: 'user_alg', client_id: 'client_alg', jti: 'oat_alg', scope: 'read' }, { alg, typ: 'at+jwt', kid: issuer.kid })],
      );
    }
    cases.push(['session RS512 header, RS256 signature', await issuer.sign({ ...base, sub: 'user_alg' }, { alg: 'RS512', typ: 'JWT', kid: issuer.kid }, { alg: 'RS256' })]);
    const modes = {
      pem: { jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl },
      jwks: { secretKey: issuer.secretKey, apiUrl: api.apiUrl },
    };
    const seen: string[] = [];
    for (const [mode, options] of Object.entries(modes)) {
      const clerk = createClerkClient({ ...options, publishableKey: issuer.publishableKey });
      const ours = createClerkAuth({ ...options, env: {} });
      for (const [name, token] of cases) {
        const request = () => new Request('http://localhost/api', { headers: { authorization: `Bearer ${token}` } });
        const state = await clerk.authenticateRequest(request(), { acceptsToken: 'any' });
        const result = await ours.authenticate(request(), { acceptsToken: 'any' });
        const what = `${mode} ${name}`;
        expect(result.auth.isAuthenticated, what).toBe(state.isAuthenticated);
        expect(result.reason, what).toBe(state.reason);
        seen.push(`${what}: ${String(state.reason)}`);
      }
    }
    // Both decisions occur: RS256 signs in, everything else is token-verification-failed.
    expect(seen.filter((line) => line.endsWith('token-verification-failed'))).toHaveLength(14);
    expect(seen.filter((line) => line.endsWith('null'))).toHaveLength(6);
  });
});
