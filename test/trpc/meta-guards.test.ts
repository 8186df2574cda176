/**
 * Least surprise in the tRPC guards, over tRPC's fetch adapter with real tokens:
 * - `.meta({ auth })` requirements add up (AND) across chained `.meta()` calls, `.input()`/`.use()`
 *   in between, and `.concat()`; none can be dropped or replaced;
 * - `.meta({ auth: undefined })`, a malformed requirement, and a requirement no token the builder
 *   admits can meet throw `ClerkAuthConfigError` when the procedure is built, not on a request;
 * - `machineProcedure` admits M2M tokens and API keys, and OAuth access tokens only where a
 *   procedure names them (`authorize({ token: 'oauth_token' })`).
 */
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type ClerkAuth, type ClerkAuthError } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkContextFromToken, clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

interface AppMeta extends ClerkMeta {
  description?: string;
}

const t = initTRPC.context<ClerkContext>().meta<AppMeta>().create({ isDev: false });
const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
const seenMeta: unknown[] = [];
const resolved: string[] = [];

const router = t.router({
  adminWriter: protectedProcedure
    .meta({ auth: { role: 'org:admin' } })
    .meta({ auth: { permission: 'org:notes:create' } })
    .query(() => {
      resolved.push('adminWriter');
      return 'both';
    }),
  // Other builder steps between the .meta() calls, and a later .meta() without auth.
  chained: protectedProcedure
    .meta({ auth: { role: 'org:admin' }, description: 'first' })
    .input(z.object({ n: z.number() }).optional())
    .use(async ({ meta, next }) => {
      seenMeta.push(meta);
      return next();
    })
    .meta({ description: 'second' })
    .meta({ auth: { permission: 'org:notes:create' } })
    .query(() => 'chained'),
  concatenated: publicProcedure.meta({ auth: { role: 'org:admin' } }).concat(publicProcedure.meta({ auth: { permission: 'org:notes:create' } })).query(() => 'concatenated'),
  machine: machineProcedure.query(({ ctx }) => {
    resolved.push('machine');
    return { kind: ctx.auth.tokenType, subject: ctx.auth.subject };
  }),
  oauth: publicProcedure.use(authorize({ token: 'oauth_token' })).query(({ ctx }) => ({ kind: ctx.auth.tokenType, clientId: ctx.auth.clientId, userId: ctx.auth.userId })),
  // One OAuth client only: a predicate on the client id (there is no `clientId` requirement key).
  oneClient: publicProcedure
    .use(authorize({ token: 'oauth_token', predicate: (auth) => auth.isAuthenticated && auth.tokenType === 'oauth_token' && auth.clientId === 'client_1' }))
    .query(({ ctx }) => ctx.auth.clientId),
});

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;
const ADMIN_ONLY = { userId: 'user_admin', org: { id: 'org_1', role: 'admin' } } as const;
const WRITER_ONLY = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;
const ADMIN_WRITER = { userId: 'user_both', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] } } as const;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  // JWTs verified networklessly; opaque API keys through the fake Backend API.
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
});
afterAll(() => api?.close());

async function call(path: string, token?: string) {
  const req = new Request(`http://localhost/trpc/${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const response = await fetchRequestHandler({ endpoint: '/trpc', req, router, createContext: createClerkContext(clerkAuth) });
  const body = (await response.json()) as { result?: { data: unknown }; error?: { message: string; data: { code: string } } };
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body };
}

/** The `ClerkAuthConfigError` that `build` throws (fails the test if it throws nothing). */
function configError(build: () => unknown): ClerkAuthError {
  try {
    build();
  } catch (error) {
    expect((error as ClerkAuthError).code).toBe('CLERK_AUTH_CONFIG');
    return error as ClerkAuthError;
  }
  throw new Error('expected the builder to throw ClerkAuthConfigError, but it built');
}

describe('.meta({ auth }) requirements add up', () => {
  it('two chained .meta({ auth }) calls require both: one of the two is 403', async () => {
    expect((await call('adminWriter', await issuer.sessionToken(ADMIN_ONLY))).status).toBe(403);
    const writer = await call('adminWriter', await issuer.sessionToken(WRITER_ONLY));
    expect(writer.status).toBe(403);
    expect(writer.body.error?.data.code).toBe('FORBIDDEN');
    expect(writer.challenge).toBe('Bearer error="insufficient_scope"');
    expect(resolved).toEqual([]);
    expect(await call('adminWriter', await issuer.sessionToken(ADMIN_WRITER))).toMatchObject({ status: 200, body: { result: { data: 'both' } } });
    expect(resolved).toEqual(['adminWriter']);
    expect((await call('adminWriter')).status).toBe(401);
  });

  it('survive .input(), .use() and a .meta() without auth in between; the rest of the meta merges as tRPC merges it', async () => {
    seenMeta.length = 0;
    expect((await call('chained', await issuer.sessionToken(ADMIN_ONLY))).status).toBe(403);
    expect((await call('chained', await issuer.sessionToken(WRITER_ONLY))).status).toBe(403);
    expect(await call('chained', await issuer.sessionToken(ADMIN_WRITER))).toMatchObject({ status: 200, body: { result: { data: 'chained' } } });
    // The user's middleware sees its own keys, merged; `auth` is consumed by the builder.
    expect(seenMeta).toHaveLength(1);
    expect((seenMeta[0] as AppMeta).description).toBe('second');
    expect(Object.keys(seenMeta[0] as object)).toEqual(['description']);
  });

  it('survive .concat(): both builders’ requirements hold', async () => {
    expect((await call('concatenated', await issuer.sessionToken(ADMIN_ONLY))).status).toBe(403);
    expect((await call('concatenated', await issuer.sessionToken(WRITER_ONLY))).status).toBe(403);
    expect((await call('concatenated', await issuer.sessionToken(ADMIN_WRITER))).status).toBe(200);
  });

  it('hold for createCaller too', async () => {
    const as = async (claims: typeof ADMIN_ONLY | typeof WRITER_ONLY | typeof ADMIN_WRITER) => router.createCaller(await clerkContextFromToken(await issuer.sessionToken(claims), clerkAuth));
    await expect((await as(WRITER_ONLY)).adminWriter()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect((await as(ADMIN_ONLY)).adminWriter()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await (await as(ADMIN_WRITER)).adminWriter()).toBe('both');
  });
});

describe('requirements are checked when the procedure is built', () => {
  it('.meta({ auth: undefined }) after a requirement throws, naming the fix', () => {
    const error = configError(() => protectedProcedure.meta({ auth: { role: 'org:admin' } }).meta({ auth: undefined }));
    expect(error.message).toContain('protectedProcedure.meta({ auth: undefined })');
    expect(error.message).toMatch(/add up/);
    expect(error.message).toMatch(/Remove the `auth` key/);
    // On its own too: a requirement that is sometimes undefined is a requirement sometimes missing.
    configError(() => publicProcedure.meta({ auth: undefined }));
  });

  it('a malformed requirement throws at build time, naming the key', () => {
    expect(configError(() => protectedProcedure.meta({ auth: { rol: 'x' } as never })).message).toMatch(/protectedProcedure\.meta\(\{ auth \}\) has an unknown key "rol"/);
    expect(configError(() => publicProcedure.meta({ auth: { role: '' } })).message).toMatch(/non-empty/);
    expect(configError(() => protectedProcedure.input(z.string()).meta({ auth: null as never })).message).toMatch(/must be an object/);
  });

  it('a requirement no admitted token can meet throws at build time', () => {
    const oauthOnMachine = configError(() => machineProcedure.use(authorize({ token: 'oauth_token' })));
    expect(oauthOnMachine.message).toContain("machineProcedure admits only 'm2m_token', 'api_key'");
    expect(oauthOnMachine.message).toContain("publicProcedure.use(authorize({ token: 'oauth_token' }))");
    const sessionOnMachine = configError(() => machineProcedure.meta({ auth: { scope: 'mch_notes' } }));
    expect(sessionOnMachine.message).toMatch(/names no `token`/);
    expect(sessionOnMachine.message).toContain("token: ['m2m_token', 'api_key']");
    configError(() => protectedProcedure.meta({ auth: { token: 'm2m_token' } }));
    configError(() => publicProcedure.use(authorize({ token: 'm2m_token' })).use(authorize({ role: 'org:admin' })));
    configError(() => protectedProcedure.concat(machineProcedure));
    // What can hold still builds.
    expect(() => machineProcedure.use(authorize({ token: 'm2m_token', scope: 'mch_notes' })).meta({ auth: { token: ['m2m_token', 'api_key'], scope: 'mch_notes' } })).not.toThrow();
    expect(() => protectedProcedure.use(authorize({ token: ['session_token', 'oauth_token'] }))).not.toThrow();
  });
});

describe('machineProcedure', () => {
  it('refuses an OAuth access token with 401 token-type-mismatch; the resolver never runs', async () => {
    const oauth = await issuer.oauthToken({ userId: 'user_1', clientId: 'client_any' });
    const res = await call('machine', oauth);
    expect(res.status).toBe(401);
    expect(res.body.error?.data.code).toBe('UNAUTHORIZED');
    expect(res.challenge).toBe('Bearer error="invalid_token", error_description="token-type-mismatch"');
    expect(resolved).not.toContain('machine');
  });

  it('admits OAuth access tokens where a procedure names them: authorize({ token: "oauth_token" })', async () => {
    const oauth = await issuer.oauthToken({ userId: 'user_1', clientId: 'client_1' });
    expect(await call('oauth', oauth)).toMatchObject({ status: 200, body: { result: { data: { kind: 'oauth_token', clientId: 'client_1', userId: 'user_1' } } } });
    expect((await call('oauth', await issuer.m2mToken())).status).toBe(401);
    expect((await call('oauth', await issuer.sessionToken())).status).toBe(401);
    expect(await call('oneClient', oauth)).toMatchObject({ status: 200, body: { result: { data: 'client_1' } } });
    expect((await call('oneClient', await issuer.oauthToken({ userId: 'user_1', clientId: 'client_2' }))).status).toBe(403);
  });

  it('still admits M2M tokens and API keys, and refuses sessions', async () => {
    expect(await call('machine', await issuer.m2mToken({ machineId: 'mch_1' }))).toMatchObject({ status: 200, body: { result: { data: { kind: 'm2m_token', subject: 'mch_1' } } } });
    const before = api.count('api_keys.verify');
    const key = issuer.apiKey({ subject: 'user_key_owner' }).token;
    expect(await call('machine', key)).toMatchObject({ status: 200, body: { result: { data: { kind: 'api_key', subject: 'user_key_owner' } } } });
    expect(api.count('api_keys.verify')).toBe(before + 1);
    const session = await call('machine', await issuer.sessionToken());
    expect(session.status).toBe(401);
    expect(session.challenge).toContain('token-type-mismatch');
  });
});
