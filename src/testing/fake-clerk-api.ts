import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestIssuer } from './test-issuer.js';

/**
 * A user the fake Backend API knows.
 *
 * @example
 * ```ts
 * const users: FakeUser[] = [{ id: 'user_1', email: 'ada@example.com', firstName: 'Ada' }];
 * ```
 */
export interface FakeUser {
  id: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  username?: string;
  publicMetadata?: Record<string, unknown>;
  privateMetadata?: Record<string, unknown>;
}

/**
 * An organization the fake Backend API knows.
 *
 * @example
 * ```ts
 * const organizations: FakeOrganization[] = [{ id: 'org_1', name: 'Acme', slug: 'acme' }];
 * ```
 */
export interface FakeOrganization {
  id: string;
  name: string;
  slug?: string;
  publicMetadata?: Record<string, unknown>;
}

/**
 * How the fake API misbehaves, for fault tests.
 * - `down`: the connection is destroyed without an answer.
 * - `error`: HTTP 500 with a Clerk-shaped error body.
 * - `malformed`: HTTP 200 with a body that is not JSON.
 * - `flapping`: every other request fails with 500.
 * - `rate-limited`: HTTP 429 with Clerk's `too_many_requests` error and a `Retry-After` header.
 *
 * @example
 * ```ts
 * api.setFault({ mode: 'error' });
 * api.setFault({ mode: 'none', delayMs: 2000 }); // healthy but slow
 * api.setFault({ mode: 'none', delayMs: 20, routes: ['api_keys.verify'] }); // only verifications are slow
 * api.setFault({ mode: 'rate-limited', retryAfterSeconds: 7 });
 * ```
 */
export interface FakeApiFault {
  mode: 'none' | 'down' | 'error' | 'malformed' | 'flapping' | 'rate-limited';
  /** Delay before answering, in ms (applies to every mode). A request its client aborts meanwhile is never answered (see `abortedCount`). */
  delayMs?: number;
  /** With `rate-limited`: the `Retry-After` sent, in seconds. Default 10 (Clerk's rate-limit window). */
  retryAfterSeconds?: number;
  /** The routes (as `count` names them, e.g. `api_keys.verify`) the fault and delay apply to; the others answer normally at once. Default every route. */
  routes?: readonly string[];
}

/**
 * Options of `startFakeClerkApi`.
 *
 * @example
 * ```ts
 * await startFakeClerkApi({ issuer, users: [{ id: 'user_1', email: 'ada@example.com' }] });
 * ```
 */
export interface FakeClerkApiOptions {
  /** The issuer whose JWKS, secret key and opaque tokens the API serves. */
  issuer: TestIssuer;
  users?: FakeUser[];
  organizations?: FakeOrganization[];
  /** Port to listen on (loopback only). Default: a free port. */
  port?: number;
}

/**
 * A running fake Backend API.
 *
 * @example
 * ```ts
 * const api = await startFakeClerkApi({ issuer });
 * createClerkAuth({ secretKey: issuer.secretKey, apiUrl: api.apiUrl });
 * await api.close();
 * ```
 */
export interface FakeClerkApi {
  /** Base URL to use as `apiUrl` / `CLERK_API_URL`. */
  readonly apiUrl: string;
  /** Requests received, in total. */
  readonly requestCount: number;
  /** Requests received per route (counted on arrival): `jwks`, `users.get`, `users.list`, `users.count`, `organizations.get`, `sessions.token`, `api_keys.verify`, `m2m_tokens.verify`, `oauth.verify`, `unknown`. */
  count(route: string): number;
  /** Requests received but not yet answered, whose connection is still open (all routes). */
  readonly openRequests: number;
  /**
   * Requests whose client closed the connection before the answer was sent (e.g. a caller's timeout
   * that aborted the request), per route, or in total without a route.
   */
  abortedCount(route?: string): number;
  /** The most requests of one route (or of all routes, without one) that were open at the same time. */
  maxConcurrency(route?: string): number;
  /**
   * The last request of a route as received: method, path, headers (without `authorization`), the
   * JSON body, and whether it carried the issuer's secret key. For comparing a client's requests
   * with `@clerk/backend`'s.
   */
  lastRequest(route: string): FakeRequestRecord | undefined;
  /** Zeroes every counter (request, abort and concurrency counters; open requests stay open). */
  resetCounts(): void;
  /** Sets how the API misbehaves from now on. */
  setFault(fault: FakeApiFault): void;
  /** Adds or replaces a user. */
  addUser(user: FakeUser): void;
  /** Revokes an opaque machine token of the issuer (`ak_…`, `mt_…`, `oat_…`): from now on its verification answers 404, as Clerk's does. */
  revoke(token: string): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/**
 * One request as the fake Backend API received it (see `FakeClerkApi.lastRequest`).
 *
 * @example
 * ```ts
 * const seen: FakeRequestRecord | undefined = api.lastRequest('api_keys.verify');
 * console.log(seen?.method, seen?.path, seen?.body);
 * ```
 */
export interface FakeRequestRecord {
  method: string;
  /** The path as requested, e.g. `/api_keys/verify` or `/v1/jwks`. */
  path: string;
  /** Request headers, lower-case, without `authorization`. */
  headers: Record<string, string>;
  /** The parsed JSON body (`{}` when there is none). */
  body: Record<string, unknown>;
  /** Whether `authorization` was `Bearer <the issuer's secret key>`. */
  authorized: boolean;
}

function clerkError(status: number, code: string, message: string) {
  return { status, body: { errors: [{ code, message, long_message: message, meta: {} }], clerk_trace_id: 'fake' } };
}

function userJson(user: FakeUser) {
  const emailId = `idn_${user.id}`;
  const now = Date.now();
  return {
    object: 'user',
    id: user.id,
    username: user.username ?? null,
    first_name: user.firstName ?? null,
    last_name: user.lastName ?? null,
    image_url: '',
    has_image: false,
    primary_email_address_id: user.email ? emailId : null,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    password_enabled: true,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    banned: false,
    locked: false,
    email_addresses: user.email
      ? [{ object: 'email_address', id: emailId, email_address: user.email, verification: null, linked_to: [] }]
      : [],
    phone_numbers: [],
    web3_wallets: [],
    external_accounts: [],
    enterprise_accounts: [],
    public_metadata: user.publicMetadata ?? {},
    private_metadata: user.privateMetadata ?? {},
    unsafe_metadata: {},
    external_id: null,
    last_sign_in_at: null,
    last_active_at: null,
    created_at: now,
    updated_at: now,
    create_organization_enabled: true,
    delete_self_enabled: true,
    legal_accepted_at: null,
    locale: null,
  };
}

function organizationJson(org: FakeOrganization) {
  const now = Date.now();
  return {
    object: 'organization',
    id: org.id,
    name: org.name,
    slug: org.slug ?? org.id,
    image_url: '',
    has_image: false,
    public_metadata: org.publicMetadata ?? {},
    private_metadata: {},
    max_allowed_memberships: 0,
    admin_delete_enabled: true,
    members_count: 1,
    created_at: now,
    updated_at: now,
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) return {};
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Starts a loopback HTTP server standing in for the parts of Clerk's Backend API this package and
 * the reference app call: `GET /v1/jwks` (demands the issuer's secret key), `GET /v1/users/:id`,
 * `GET /v1/users`, `GET /v1/users/count`, `GET /v1/organizations/:id`, `POST /v1/sessions/:id/tokens[/:template]`
 * (JWT templates), and verification of the issuer's opaque machine tokens. It counts requests (and those its
 * clients aborted, and how many were open at once) and can be told to fail or to be slow.
 *
 * @example
 * ```ts
 * import { createTestIssuer, startFakeClerkApi } from 'clerk-api-auth/testing';
 *
 * const issuer = await createTestIssuer();
 * const api = await startFakeClerkApi({ issuer, users: [{ id: 'user_1', email: 'ada@example.com' }] });
 * const clerkAuth = createClerkAuth({ secretKey: issuer.secretKey, apiUrl: api.apiUrl });
 * // ... later
 * console.log(api.count('jwks'));
 * await api.close();
 * ```
 */
export async function startFakeClerkApi(options: FakeClerkApiOptions): Promise<FakeClerkApi> {
  // Loaded here, not at the top, so that importing `clerk-api-auth/testing` needs no Node built-in
  // (workerd without nodejs_compat, browsers); only starting this server does.
  const { createServer } = await import('node:http');
  const { issuer } = options;
  const users = new Map((options.users ?? []).map((u) => [u.id, u]));
  const organizations = new Map((options.organizations ?? []).map((o) => [o.id, o]));
  const counts = new Map<string, number>();
  const aborted = new Map<string, number>();
  const open = new Map<string, number>();
  const maxOpen = new Map<string, number>();
  const last = new Map<string, FakeRequestRecord>();
  const ALL = '*';
  let total = 0;
  const bump = (map: Map<string, number>, key: string, by = 1): number => {
    const next = (map.get(key) ?? 0) + by;
    map.set(key, next);
    return next;
  };
  const NO_FAULT: FakeApiFault = { mode: 'none' };
  let fault: FakeApiFault = NO_FAULT;
  let flap = 0;

  function routeName(req: IncomingMessage): string {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/^\/v1/, '');
    return path === '/jwks'
      ? 'jwks'
      : path === '/users/count'
        ? 'users.count'
        : path === '/users'
          ? 'users.list'
          : path.startsWith('/users/')
            ? 'users.get'
            : path.startsWith('/organizations/')
              ? 'organizations.get'
              : path === '/api_keys/verify'
                ? 'api_keys.verify'
                : path === '/m2m_tokens/verify'
                  ? 'm2m_tokens.verify'
                  : path === '/oauth_applications/access_tokens/verify'
                    ? 'oauth.verify'
                    : /^\/sessions\/[^/]+\/tokens(\/[^/]+)?$/.test(path)
                      ? 'sessions.token'
                      : 'unknown';
  }

  async function route(req: IncomingMessage, name: string): Promise<{ name: string; status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/v1/, '');
    const method = req.method ?? 'GET';
    const authorized = req.headers.authorization === `Bearer ${issuer.secretKey}`;
    const body = method === 'POST' || method === 'PATCH' || method === 'PUT' ? await readJson(req) : {};
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) if (key !== 'authorization' && value !== undefined) headers[key] = String(value);
    last.set(name, { method, path: url.pathname, headers, body, authorized });
    if (!authorized) return { name, ...clerkError(401, 'authentication_invalid', 'The provided secret key is invalid.') };
    if (name === 'jwks' && method === 'GET') return { name, status: 200, body: issuer.jwks };
    if (name === 'users.count') return { name, status: 200, body: { object: 'total_count', total_count: users.size } };
    if (name === 'users.list') {
      // Like the real endpoint: a bare array (the count comes from /users/count).
      return { name, status: 200, body: [...users.values()].map(userJson) };
    }
    if (name === 'users.get') {
      const user = users.get(decodeURIComponent(path.slice('/users/'.length)));
      return user ? { name, status: 200, body: userJson(user) } : { name, ...clerkError(404, 'resource_not_found', 'User not found.') };
    }
    if (name === 'organizations.get') {
      const key = decodeURIComponent(path.slice('/organizations/'.length));
      const org = organizations.get(key) ?? [...organizations.values()].find((o) => o.slug === key);
      return org ? { name, status: 200, body: organizationJson(org) } : { name, ...clerkError(404, 'resource_not_found', 'Organization not found.') };
    }
    if (name === 'sessions.token' && method === 'POST') {
      const [, , sid = '', , template] = path.split('/');
      const sub = issuer.sessions.get(decodeURIComponent(sid));
      if (!sub) return { name, ...clerkError(404, 'resource_not_found', 'Session not found.') };
      const iat = Math.floor(Date.now() / 1000);
      const lifetime = typeof body.expires_in_seconds === 'number' ? body.expires_in_seconds : 60;
      const claims: Record<string, unknown> = { iss: issuer.issuerUrl, sub, sid: decodeURIComponent(sid), iat, nbf: iat - 5, exp: iat + lifetime };
      if (template) claims.template = decodeURIComponent(template);
      return { name, status: 200, body: { object: 'token', jwt: await issuer.sign(claims) } };
    }
    if (method === 'POST' && (name === 'api_keys.verify' || name === 'm2m_tokens.verify' || name === 'oauth.verify')) {
      const secret = body.secret ?? body.token ?? body.access_token;
      const record = typeof secret === 'string' ? issuer.opaqueTokens.get(secret) : undefined;
      const type = name === 'api_keys.verify' ? 'api_key' : name === 'm2m_tokens.verify' ? 'm2m_token' : 'oauth_token';
      const expired = record?.expiresAt != null && record.expiresAt <= Date.now();
      if (!record || record.type !== type || record.revoked || expired) {
        return { name, ...clerkError(404, 'resource_not_found', 'Token not found.') };
      }
      const now = Date.now();
      const common = {
        id: record.id,
        subject: record.subject,
        scopes: record.scopes,
        claims: record.claims,
        revoked: false,
        revocation_reason: null,
        expired: false,
        expiration: record.expiresAt,
        created_at: now,
        updated_at: now,
      };
      const json =
        type === 'api_key'
          ? { object: 'api_key', type: 'api_key', name: record.name, created_by: null, description: null, last_used_at: null, ...common }
          : type === 'm2m_token'
            ? { object: 'machine_to_machine_token', ...common }
            : { object: 'clerk_idp_oauth_access_token', type: 'oauth_token', client_id: record.clientId, ...common };
      return { name, status: 200, body: json };
    }
    return { name, ...clerkError(404, 'resource_not_found', `No fake route for ${method} ${url.pathname}.`) };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    total += 1;
    const name = routeName(req);
    bump(counts, name);
    for (const key of [name, ALL]) maxOpen.set(key, Math.max(maxOpen.get(key) ?? 0, bump(open, key)));
    // The request is open until its answer is sent or its connection closes; a close before the
    // answer was sent is the client giving up (an aborted request).
    let closedByClient = false;
    let closedByServer = false;
    let wake: (() => void) | undefined;
    res.once('close', () => {
      for (const key of [name, ALL]) bump(open, key, -1);
      if (!res.writableFinished && !closedByServer) {
        closedByClient = true;
        for (const key of [name, ALL]) bump(aborted, key);
        wake?.();
      }
    });
    void (async () => {
      const current = fault.routes === undefined || fault.routes.includes(name) ? fault : NO_FAULT;
      if (current.delayMs) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, current.delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (closedByClient) return;
      const answer = await route(req, name);
      if (closedByClient) return;
      const failing = current.mode === 'flapping' ? flap++ % 2 === 0 : current.mode !== 'none';
      if (failing && current.mode === 'down') {
        closedByServer = true;
        req.socket.destroy();
        return;
      }
      if (failing && current.mode === 'rate-limited') {
        const error = clerkError(429, 'too_many_requests', 'Too many requests, please try again later.');
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(current.retryAfterSeconds ?? 10) }).end(JSON.stringify(error.body));
        return;
      }
      if (failing && current.mode === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ this is not json');
        return;
      }
      if (failing) {
        const error = clerkError(500, 'internal_clerk_error', 'Fake outage.');
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(error.body));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    get requestCount() {
      return total;
    },
    count: (name) => counts.get(name) ?? 0,
    get openRequests() {
      return open.get(ALL) ?? 0;
    },
    abortedCount: (name = ALL) => aborted.get(name) ?? 0,
    maxConcurrency: (name = ALL) => maxOpen.get(name) ?? 0,
    lastRequest: (name) => last.get(name),
    resetCounts() {
      counts.clear();
      aborted.clear();
      last.clear();
      maxOpen.clear();
      for (const [key, value] of open) maxOpen.set(key, value);
      total = 0;
    },
    setFault(next) {
      fault = { ...next, ...(next.routes !== undefined && { routes: [...next.routes] }) };
      flap = 0;
    },
    revoke(token) {
      issuer.revoke(token);
    },
    addUser(user) {
      users.set(user.id, user);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
