import { bytesToBase64Url } from '../core/internal.js';
import type { FakeClerkApi } from './fake-clerk-api.js';
import { createWebhookSigningSecret, signWebhook, type SignedWebhook, type WebhookDeliveryOptions, type WebhookEventInput } from './webhooks.js';

/** Clerk's JWT category for session tokens and for M2M tokens (`cat` header). */
const CAT_SESSION = 'cl_B7d4PD111AAA';
const CAT_M2M = 'cl_B7d4PD333AAA';

/**
 * Options of `createTestIssuer`.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer({ keySize: 4096, frontendApi: 'clerk.example.test' });
 * ```
 */
export interface TestIssuerOptions {
  /** RSA modulus size. Default 2048 (Clerk's); 4096 on request. */
  keySize?: 2048 | 4096;
  /** Host of the fake Frontend API; becomes `iss` (`https://<host>`) and the publishable key. Default `clerk.test.local`. */
  frontendApi?: string;
  /** `azp` put on session tokens unless a token says otherwise. Default `http://localhost:3000`. */
  defaultAzp?: string;
  /** Key id in the JWT header and JWKS. Default `ins_test_<random>`. */
  kid?: string;
  /** Webhook signing secret (`whsec_…`) that `signWebhook` uses. Default a fresh random one. */
  webhookSigningSecret?: string;
}

/**
 * Claims of a session token the issuer mints, in friendly form. The issuer encodes them the way
 * Clerk does (v2 claims: `o.rol`, `o.per`, `o.fpm`, `fea`, `pla`).
 *
 * @example
 * ```ts
 * await issuer.sessionToken({ userId: 'user_1', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } });
 * ```
 */
export interface SessionTokenOptions {
  /** `sub`. Default `user_test`. */
  userId?: string;
  /** `sid`. Default `sess_<random>`. */
  sessionId?: string;
  /** Active organization. `role` with or without the `org:` prefix; permissions as `org:<feature>:<action>`. */
  org?: { id: string; slug?: string; role?: string; permissions?: readonly string[] };
  /** Billing features, e.g. `['u:export', 'o:analytics']` (scope `u:` user, `o:` org; bare names are user features). */
  features?: readonly string[];
  /** Billing plans, e.g. `['u:pro']` (same scoping as features). */
  plans?: readonly string[];
  /** Session status: `active` (default) or `pending`. */
  status?: 'active' | 'pending';
  /** Minutes since first and second factor verification (`fva`); `-1` for never. Default `[0, -1]`. */
  factorVerificationAge?: [number, number];
  /** Impersonation actor (`act`). */
  actor?: { sub: string; [claim: string]: unknown };
  /**
   * Lifetime in seconds from `iat`. Default 60 (Clerk's). Negative values mint expired tokens. `iat` is
   * the current time in whole seconds (as in Clerk's tokens), so the token stays valid for between n − 1
   * and n seconds from now: a test that needs a 1–2 s token valid for its first call mints it right after
   * a second begins.
   */
  expiresInSeconds?: number;
  /** Issued-at offset in seconds from now. Default 0. */
  issuedAtOffsetSeconds?: number;
  /** Not-before offset in seconds from now. Default -5 (Clerk sets `nbf` a few seconds before `iat`). */
  notBeforeOffsetSeconds?: number;
  /** `azp`; `null` omits it. Default the issuer's `defaultAzp`. */
  azp?: string | null;
  /** Claims format: 2 (current, default) or 1 (legacy `org_id`/`org_role`/`org_permissions`). */
  claimsVersion?: 1 | 2;
  /** Extra claims merged last, e.g. `{ metadata: { role: 'admin' } }`. */
  claims?: Record<string, unknown>;
}

/**
 * Options of an M2M token.
 *
 * @example
 * ```ts
 * await issuer.m2mToken({ machineId: 'mch_billing', scopes: ['mch_notes'] });
 * ```
 */
export interface M2MTokenOptions {
  /** `sub`, must start with `mch_`. Default `mch_test`. */
  machineId?: string;
  /** Machines this token may call (`aud`). */
  scopes?: readonly string[];
  /** Custom claims. */
  claims?: Record<string, unknown>;
  /** Lifetime in seconds from `iat` (whole seconds: valid for n − 1 to n seconds from now). Default 3600. */
  expiresInSeconds?: number;
}

/**
 * Options of an OAuth access token (JWT, `typ: at+jwt`).
 *
 * @example
 * ```ts
 * await issuer.oauthToken({ userId: 'user_1', clientId: 'client_1', scopes: ['profile', 'email'] });
 * ```
 */
export interface OAuthTokenOptions {
  userId?: string;
  clientId?: string;
  scopes?: readonly string[];
  audience?: string | string[];
  expiresInSeconds?: number;
}

/**
 * A record of an opaque machine token (`ak_…`, `mt_…`, `oat_…`) registered with the issuer, which the
 * fake Backend API answers for.
 *
 * @example
 * ```ts
 * const { token } = issuer.apiKey({ subject: 'user_1', scopes: ['notes:read'] });
 * ```
 */
export interface OpaqueTokenRecord {
  token: string;
  type: 'api_key' | 'm2m_token' | 'oauth_token';
  id: string;
  subject: string;
  scopes: string[];
  claims: Record<string, unknown> | null;
  name: string;
  clientId: string;
  expiresAt: number | null;
  revoked: boolean;
}

/**
 * Options of `TestIssuer.sign`.
 *
 * @example
 * ```ts
 * // An RS512 header over an RS256 signature (a mismatched token):
 * await issuer.sign(payload, { alg: 'RS512', typ: 'JWT', kid: issuer.kid }, { alg: 'RS256' });
 * ```
 */
export interface JwtSignOptions {
  /** The algorithm the signature is made with. Default: the header's `alg` when it is RS384 or RS512, else RS256. */
  alg?: 'RS256' | 'RS384' | 'RS512';
}

/**
 * A local stand-in for a Clerk instance's signing side: a key pair, the matching public key and
 * JWKS, well-formed (fake) keys, and minting of real Clerk-format tokens.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer();
 * const clerkAuth = createClerkAuth({ jwtKey: issuer.jwtKey });
 * const token = await issuer.sessionToken({ userId: 'user_1' });
 * ```
 */
export interface TestIssuer {
  /** PEM (SPKI) public key, as the Clerk Dashboard shows it; use as `CLERK_JWT_KEY`. */
  readonly jwtKey: string;
  /** The JWKS the Backend API serves for this instance. */
  readonly jwks: { keys: JsonWebKey[] };
  /** The key id in every token's header. */
  readonly kid: string;
  /** A fake but well-formed secret key (`sk_test_…`) that the fake Backend API demands. */
  readonly secretKey: string;
  /** A fake but well-formed publishable key (`pk_test_…`) encoding `frontendApi`. */
  readonly publishableKey: string;
  /** `iss` of every token: `https://<frontendApi>`. */
  readonly issuerUrl: string;
  /** Opaque machine tokens registered so far, by token. */
  readonly opaqueTokens: ReadonlyMap<string, OpaqueTokenRecord>;
  /** The user of every session id minted so far (so the fake API can mint JWT-template tokens for it). */
  readonly sessions: ReadonlyMap<string, string>;
  /** Mints a session token. */
  sessionToken(options?: SessionTokenOptions): Promise<string>;
  /** Mints an M2M token in JWT form (verifiable networklessly). */
  m2mToken(options?: M2MTokenOptions): Promise<string>;
  /** Mints an OAuth access token in JWT form. */
  oauthToken(options?: OAuthTokenOptions): Promise<string>;
  /** Registers an opaque API key (`ak_…`) the fake Backend API will verify. */
  apiKey(options?: { subject?: string; scopes?: string[]; name?: string; claims?: Record<string, unknown>; expiresInSeconds?: number }): OpaqueTokenRecord;
  /** Registers an opaque M2M token (`mt_…`) the fake Backend API will verify. */
  opaqueM2mToken(options?: { machineId?: string; scopes?: string[]; claims?: Record<string, unknown>; expiresInSeconds?: number }): OpaqueTokenRecord;
  /** Marks an opaque token revoked. */
  revoke(token: string): void;
  /**
   * Signs any payload and header with the issuer's key, for adversarial tests. The header defaults to
   * `{ alg: 'RS256', typ: 'JWT', kid }`. The signature uses the hash the header's `alg` names when it
   * is `RS384` or `RS512` (the same RSA key, another algorithm), else RS256; `options.alg` overrides
   * that (e.g. an RS256 signature under an `RS512` header).
   */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>, options?: JwtSignOptions): Promise<string>;
  /** The webhook signing secret (`whsec_…`) of this instance; use it as `CLERK_WEBHOOK_SIGNING_SECRET`. */
  readonly webhookSigningSecret: string;
  /**
   * Signs a webhook delivery the way Clerk (Svix) does, with `webhookSigningSecret`: `verifyWebhook`
   * from `@clerk/backend/webhooks` accepts it. See `signWebhook`.
   */
  signWebhook(event: WebhookEventInput | string, options?: WebhookDeliveryOptions): Promise<SignedWebhook>;
  /**
   * The environment of a server process under test that trusts this issuer, configured the way a
   * deployment is (only `CLERK_*` variables): `CLERK_JWT_KEY` (networkless verification),
   * `CLERK_PUBLISHABLE_KEY`, `CLERK_WEBHOOK_SIGNING_SECRET` and `CLERK_TELEMETRY_DISABLED=1`. Given the
   * Backend API stand-in (`startFakeClerkApi`), also `CLERK_SECRET_KEY` (the key the stand-in demands)
   * and `CLERK_API_URL` pointing at it, so `ctx.clerk` and opaque machine tokens work offline. Without
   * it there is no secret key: a fake one would otherwise be sent to Clerk's real Backend API.
   * Spread it over what the process needs besides (`PATH`, `PORT`, …).
   *
   * @example
   * ```ts
   * import { spawn } from 'node:child_process';
   * import { createTestIssuer, startFakeClerkApi } from 'clerk-api-auth/testing';
   *
   * const issuer = await createTestIssuer();
   * const api = await startFakeClerkApi({ issuer });
   * const server = spawn('node', ['dist/server.js'], { env: { PATH: process.env.PATH, PORT: '4010', ...issuer.env(api) } });
   * ```
   */
  env(api?: Pick<FakeClerkApi, 'apiUrl'>): TestServerEnv;
}

/**
 * The `CLERK_*` variables `TestIssuer.env()` returns.
 *
 * @example
 * ```ts
 * const env: TestServerEnv = issuer.env();
 * env.CLERK_JWT_KEY; // the issuer's public key, PEM
 * ```
 */
export interface TestServerEnv {
  readonly CLERK_JWT_KEY: string;
  readonly CLERK_PUBLISHABLE_KEY: string;
  readonly CLERK_WEBHOOK_SIGNING_SECRET: string;
  readonly CLERK_TELEMETRY_DISABLED: '1';
  /** Only with the Backend API stand-in. */
  readonly CLERK_SECRET_KEY?: string;
  /** Only with the Backend API stand-in: its `apiUrl`. */
  readonly CLERK_API_URL?: string;
  readonly [name: string]: string | undefined;
}

const encoder = new TextEncoder();

function b64urlJson(value: unknown): string {
  return bytesToBase64Url(encoder.encode(JSON.stringify(value)));
}

function randomId(bytes = 12): string {
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(bytes))).replace(/[-_]/g, 'x');
}

function pem(der: ArrayBuffer): string {
  const base64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----`;
}

/**
 * Encodes organization permissions the way Clerk's v2 session claims do: the distinct features go
 * into `fea` (as `o:<feature>`), the distinct actions into `o.per`, and for every feature a decimal
 * bitmask over `per` into `o.fpm`.
 */
function encodeOrgPermissions(permissions: readonly string[]): { features: string[]; per: string; fpm: string } {
  const features: string[] = [];
  const actions: string[] = [];
  const pairs: Array<[string, string]> = [];
  for (const permission of permissions) {
    const match = /^(?:org:)?([^:]+):([^:]+)$/.exec(permission);
    if (!match) throw new Error(`Permission ${JSON.stringify(permission)} must look like org:<feature>:<action>.`);
    const [, feature, action] = match as unknown as [string, string, string];
    if (!features.includes(feature)) features.push(feature);
    if (!actions.includes(action)) actions.push(action);
    pairs.push([feature, action]);
  }
  const masks = features.map((feature) =>
    pairs.filter(([f]) => f === feature).reduce((mask, [, action]) => mask | (1n << BigInt(actions.indexOf(action))), 0n),
  );
  return { features, per: actions.join(','), fpm: masks.map(String).join(',') };
}

function scoped(values: readonly string[] | undefined, defaultScope: 'u' | 'o'): string[] {
  return (values ?? []).map((value) => (/^(u|o|ou|uo):/.test(value) ? value : `${defaultScope}:${value}`));
}

/**
 * Creates a test issuer with a fresh RSA key pair (WebCrypto: works on Node, Bun, Deno, workerd).
 * Tokens it mints are real Clerk-format RS256 JWTs that `@clerk/backend` verifies with `jwtKey`, or
 * via the JWKS served by `startFakeClerkApi`.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from 'clerk-api-auth/testing';
 * import { createClerkAuth } from 'clerk-api-auth';
 *
 * const issuer = await createTestIssuer();
 * const clerkAuth = createClerkAuth({ jwtKey: issuer.jwtKey });
 * const token = await issuer.sessionToken({ userId: 'user_123', org: { id: 'org_1', role: 'admin' } });
 * const { auth } = await clerkAuth.authenticate(token);
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const keySize = options.keySize ?? 2048;
  const frontendApi = options.frontendApi ?? 'clerk.test.local';
  const issuerUrl = `https://${frontendApi}`;
  const defaultAzp = options.defaultAzp ?? 'http://localhost:3000';
  const kid = options.kid ?? `ins_test_${randomId()}`;
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: keySize, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const jwtKey = pem(await crypto.subtle.exportKey('spki', pair.publicKey));
  const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk: JsonWebKey & { kid: string; use: string } = { kty: 'RSA', n: publicJwk.n, e: publicJwk.e, alg: 'RS256', use: 'sig', kid };
  const opaque = new Map<string, OpaqueTokenRecord>();
  const sessions = new Map<string, string>();
  const webhookSigningSecret = options.webhookSigningSecret ?? createWebhookSigningSecret();

  // The same private key, imported once per hash: RS384 and RS512 signatures by the instance's key.
  const signingKeys = new Map<string, Promise<CryptoKey>>([['RS256', Promise.resolve(pair.privateKey)]]);
  const signingKey = (alg: 'RS256' | 'RS384' | 'RS512'): Promise<CryptoKey> => {
    let key = signingKeys.get(alg);
    if (!key) {
      key = crypto.subtle
        .exportKey('pkcs8', pair.privateKey)
        .then((pkcs8) => crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: alg === 'RS384' ? 'SHA-384' : 'SHA-512' }, false, ['sign']));
      signingKeys.set(alg, key);
    }
    return key;
  };

  async function sign(payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT', kid }, options: JwtSignOptions = {}): Promise<string> {
    const alg = options.alg ?? (header.alg === 'RS384' || header.alg === 'RS512' ? header.alg : 'RS256');
    const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', await signingKey(alg), encoder.encode(input));
    return `${input}.${bytesToBase64Url(new Uint8Array(signature))}`;
  }

  const now = (): number => Math.floor(Date.now() / 1000);

  function register(record: Omit<OpaqueTokenRecord, 'revoked'>): OpaqueTokenRecord {
    const full = { ...record, revoked: false };
    opaque.set(full.token, full);
    return full;
  }

  const secretKey = `sk_test_${randomId(24)}`;
  const publishableKey = `pk_test_${btoa(`${frontendApi}$`).replace(/=+$/, '')}`;
  return {
    jwtKey,
    jwks: { keys: [jwk] },
    kid,
    secretKey,
    publishableKey,
    env(api) {
      const base = { CLERK_JWT_KEY: jwtKey, CLERK_PUBLISHABLE_KEY: publishableKey, CLERK_WEBHOOK_SIGNING_SECRET: webhookSigningSecret, CLERK_TELEMETRY_DISABLED: '1' } as const;
      return api === undefined ? base : { ...base, CLERK_SECRET_KEY: secretKey, CLERK_API_URL: api.apiUrl };
    },
    issuerUrl,
    opaqueTokens: opaque,
    sessions,
    sign,
    webhookSigningSecret,
    signWebhook: (event, delivery = {}) => signWebhook(event, { ...delivery, signingSecret: webhookSigningSecret }),

    async sessionToken(o = {}) {
      const iat = now() + (o.issuedAtOffsetSeconds ?? 0);
      const payload: Record<string, unknown> = {
        iss: issuerUrl,
        sub: o.userId ?? 'user_test',
        sid: o.sessionId ?? `sess_${randomId()}`,
        iat,
        nbf: now() + (o.notBeforeOffsetSeconds ?? -5),
        exp: iat + (o.expiresInSeconds ?? 60),
        jti: randomId(10),
      };
      sessions.set(payload.sid as string, payload.sub as string);
      const azp = o.azp === undefined ? defaultAzp : o.azp;
      if (azp !== null) payload.azp = azp;
      if (o.actor) payload.act = o.actor;
      const version = o.claimsVersion ?? 2;
      const features = scoped(o.features, 'u');
      if (version === 2) {
        payload.v = 2;
        payload.sts = o.status ?? 'active';
        payload.fva = o.factorVerificationAge ?? [0, -1];
        if (o.org) {
          const encoded = encodeOrgPermissions(o.org.permissions ?? []);
          const org: Record<string, unknown> = { id: o.org.id };
          if (o.org.slug) org.slg = o.org.slug;
          if (o.org.role) org.rol = o.org.role.replace(/^org:/, '');
          if (encoded.per) {
            org.per = encoded.per;
            org.fpm = encoded.fpm;
          }
          payload.o = org;
          features.unshift(...encoded.features.map((feature) => `o:${feature}`));
        }
      } else {
        if (o.status === 'pending') payload.sts = 'pending';
        payload.fva = o.factorVerificationAge ?? [0, -1];
        if (o.org) {
          payload.org_id = o.org.id;
          if (o.org.slug) payload.org_slug = o.org.slug;
          if (o.org.role) payload.org_role = `org:${o.org.role.replace(/^org:/, '')}`;
          payload.org_permissions = [...(o.org.permissions ?? [])];
        }
      }
      if (features.length > 0) payload.fea = features.join(',');
      if (o.plans && o.plans.length > 0) payload.pla = scoped(o.plans, 'u').join(',');
      Object.assign(payload, o.claims);
      return sign(payload, { alg: 'RS256', typ: 'JWT', kid, cat: CAT_SESSION });
    },

    async m2mToken(o = {}) {
      const iat = now();
      const payload: Record<string, unknown> = {
        iss: issuerUrl,
        sub: o.machineId ?? 'mch_test',
        jti: `mt_${randomId(16)}`,
        iat,
        nbf: iat - 5,
        exp: iat + (o.expiresInSeconds ?? 3600),
        ...o.claims,
      };
      if (o.scopes && o.scopes.length > 0) payload.aud = [...o.scopes];
      return sign(payload, { alg: 'RS256', typ: 'JWT', kid, cat: CAT_M2M });
    },

    async oauthToken(o = {}) {
      const iat = now();
      const payload: Record<string, unknown> = {
        iss: issuerUrl,
        sub: o.userId ?? 'user_test',
        client_id: o.clientId ?? 'client_test',
        jti: `oat_${randomId(16)}`,
        scope: (o.scopes ?? []).join(' '),
        iat,
        nbf: iat - 5,
        exp: iat + (o.expiresInSeconds ?? 3600),
      };
      if (o.audience !== undefined) payload.aud = o.audience;
      return sign(payload, { alg: 'RS256', typ: 'at+jwt', kid });
    },

    apiKey(o = {}) {
      return register({
        token: `ak_${randomId(24)}`,
        type: 'api_key',
        id: `ak_id_${randomId()}`,
        subject: o.subject ?? 'user_test',
        scopes: o.scopes ?? [],
        claims: o.claims ?? null,
        name: o.name ?? 'test key',
        clientId: '',
        expiresAt: o.expiresInSeconds === undefined ? null : Date.now() + o.expiresInSeconds * 1000,
      });
    },

    opaqueM2mToken(o = {}) {
      return register({
        token: `mt_${randomId(24)}`,
        type: 'm2m_token',
        id: `mt_id_${randomId()}`,
        subject: o.machineId ?? 'mch_test',
        scopes: o.scopes ?? [],
        claims: o.claims ?? null,
        name: '',
        clientId: '',
        expiresAt: o.expiresInSeconds === undefined ? null : Date.now() + o.expiresInSeconds * 1000,
      });
    },

    revoke(token) {
      const record = opaque.get(token);
      if (record) record.revoked = true;
    },
  };
}
