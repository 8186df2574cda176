/**
 * Clerk's newest authorization through tRPC, over real loopback HTTP with real tokens: the reference
 * app's `reports.export` (feature `reports`: 402), `account.rotateKey` (reverification `strict`: 403
 * with Clerk's hint, and the whole useReverification loop through @trpc/client), `keys.ping` (API
 * keys), and an organization guard that narrows `ctx.auth.orgId`.
 */
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { clerkReverification, createClerkFetch } from 'clerk-api-auth/client';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type SessionTokenOptions, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkErrorFormatter, clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { serve, type Served } from '../../examples/shared/serve.js';
import { reverifying } from '../support/use-reverification.js';
import { ADMIN, ALICE, envFor, errorCode, get, post, rejection, singleClient, startExample, type AppRouter } from './helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: Awaited<ReturnType<typeof startExample>>;
let url: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
  server = await startExample(envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }));
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  await api?.close();
});

const token = (options: SessionTokenOptions) => issuer.sessionToken({ expiresInSeconds: 600, ...options });
const errorOf = (body: unknown) => (body as { error: { message: string; data: Record<string, unknown> } }).error;
/** The statuses the access log recorded for one procedure, in order. */
const statusesOf = (path: string) => server.log.filter((line) => line.includes(` /trpc/${path} `)).map((line) => Number(line.split(' ')[3]));

describe('reports.export (feature "reports")', () => {
  it('is 401 signed out', async () => {
    const res = await get(url, 'reports.export');
    expect(res.status).toBe(401);
    expect(errorCode(res.body)).toBe('UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('is 402 PAYMENT_REQUIRED naming the feature for a caller whose plan lacks it', async () => {
    const res = await get(url, 'reports.export', { token: await token(ALICE) });
    expect(res.status).toBe(402);
    expect(errorCode(res.body)).toBe('PAYMENT_REQUIRED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    const error = errorOf(res.body);
    expect(error.message).toContain('"reports"');
    expect(error.data).toMatchObject({ code: 'PAYMENT_REQUIRED', httpStatus: 402, path: 'reports.export', missing: { feature: ['reports'] } });
    expect(error.data.clerk_error).toBeUndefined();
  });

  it('reaches @trpc/client as a TRPCClientError with data.code PAYMENT_REQUIRED and data.missing', async () => {
    const error = await rejection(singleClient(url, await token(ALICE)).reports.export.query());
    expect(error.data?.code).toBe('PAYMENT_REQUIRED');
    expect(error.data?.httpStatus).toBe(402);
    expect(error.data?.missing).toEqual({ feature: ['reports'] });
  });

  it('answers { rows } (the caller’s notes) when the plan includes the feature', async () => {
    const writer: SessionTokenOptions = { userId: 'user_reporter', features: ['reports'], org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } };
    const reporter = singleClient(url, await token(writer));
    expect(await reporter.reports.export.query()).toEqual({ rows: 0 });
    await reporter.notes.create.mutate({ text: 'one' });
    await reporter.notes.create.mutate({ text: 'two' });
    expect(await reporter.reports.export.query()).toEqual({ rows: 2 });
  });

  it('in a batch with a role denial: each call keeps its own code, and the response is 207', async () => {
    const res = await get(url, 'reports.export,admin.stats', { token: await token(ALICE), batch: true, input: {} });
    expect(res.status).toBe(207);
    expect((res.body as Array<{ error: { data: { code: string } } }>).map((entry) => entry.error.data.code)).toEqual(['PAYMENT_REQUIRED', 'FORBIDDEN']);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
  });
});

describe('account.rotateKey (reverification "strict")', () => {
  it('is 401 signed out', async () => {
    expect((await post(url, 'account.rotateKey', {})).status).toBe(401);
  });

  it('is 403 with Clerk’s reverification hint in data.clerk_error when the verification is stale', async () => {
    for (const factorVerificationAge of [
      [30, -1],
      [5, 20],
    ] as Array<[number, number]>) {
      const res = await post(url, 'account.rotateKey', {}, await token({ ...ALICE, factorVerificationAge }));
      expect(res.status, String(factorVerificationAge)).toBe(403);
      expect(errorCode(res.body)).toBe('FORBIDDEN');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      const error = errorOf(res.body);
      expect(error.data.clerk_error).toEqual(reverificationError('strict').clerk_error);
      expect(isReverificationHint(error.data)).toBe(true);
      expect(error.message).toMatch(/recent reverification/);
    }
  });

  it('answers { rotated: true } to a freshly verified session (first factor, or second factor within 10 minutes)', async () => {
    for (const factorVerificationAge of [
      [0, -1],
      [30, 2],
    ] as Array<[number, number]>) {
      const res = await post(url, 'account.rotateKey', {}, await token({ ...ALICE, factorVerificationAge }));
      expect(res.status, String(factorVerificationAge)).toBe(200);
      expect(res.body).toEqual({ result: { data: { rotated: true } } });
    }
  });

  /** A signed-in tab whose getToken caches, as Clerk's does; `reverify()` is the user verifying again. */
  function tab() {
    let verified = false;
    let cached: string | undefined;
    const skipCache: boolean[] = [];
    return {
      skipCache,
      reverify() {
        verified = true;
      },
      async getToken(options?: { skipCache?: boolean }): Promise<string> {
        skipCache.push(options?.skipCache === true);
        if (options?.skipCache === true || cached === undefined) cached = await token({ ...ALICE, factorVerificationAge: verified ? [0, -1] : [30, -1] });
        return cached;
      },
    };
  }

  it('the useReverification loop through @trpc/client: hint → prompt → retried once with a fresh token → success', async () => {
    const browser = tab();
    const before = statusesOf('account.rotateKey').length;
    const reverification = clerkReverification({ getToken: browser.getToken });
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, fetch: createClerkFetch({ getToken: reverification.getToken }) })] });
    const prompts: unknown[] = [];
    const rotateKey = reverifying(
      reverification.fetcher(() => trpc.account.rotateKey.mutate()),
      ({ level, complete }) => {
        prompts.push(level);
        browser.reverify();
        complete();
      },
    );
    expect(await rotateKey()).toEqual({ rotated: true });
    expect(prompts).toEqual(['second_factor']); // the level of 'strict', read by Clerk from the hint
    expect(statusesOf('account.rotateKey').slice(before)).toEqual([403, 200]); // createClerkFetch did not retry the 403 itself
    expect(browser.skipCache).toEqual([false, true]); // the retry minted a fresh token (the cached one was stale)
  });

  it('without clerkReverification the TRPCClientError is thrown: no prompt, no retry', async () => {
    const browser = tab();
    const before = statusesOf('account.rotateKey').length;
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, fetch: createClerkFetch({ getToken: browser.getToken }) })] });
    const prompts: unknown[] = [];
    const rotateKey = reverifying(() => trpc.account.rotateKey.mutate(), ({ level }) => prompts.push(level));
    await expect(rotateKey()).rejects.toBeInstanceOf(TRPCClientError);
    expect(prompts).toEqual([]);
    expect(statusesOf('account.rotateKey').slice(before)).toEqual([403]);
  });

  it('a cancelled prompt ends the call: one request, no retry', async () => {
    const browser = tab();
    const before = statusesOf('account.rotateKey').length;
    const reverification = clerkReverification({ getToken: browser.getToken });
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, fetch: createClerkFetch({ getToken: reverification.getToken }) })] });
    const rotateKey = reverifying(reverification.fetcher(() => trpc.account.rotateKey.mutate()), ({ cancel }) => cancel());
    await expect(rotateKey()).rejects.toThrow('reverification_cancelled');
    expect(statusesOf('account.rotateKey').slice(before)).toEqual([403]);
  });
});

describe('keys.ping (API key)', () => {
  it('answers the key’s owner, a user or an organization, verified by the Backend API', async () => {
    const before = api.count('api_keys.verify');
    expect(await singleClient(url, issuer.apiKey({ subject: 'user_alice' }).token).keys.ping.query()).toEqual({ subject: 'user_alice' });
    expect(await singleClient(url, issuer.apiKey({ subject: 'org_1' }).token).keys.ping.query()).toEqual({ subject: 'org_1' });
    expect(api.count('api_keys.verify')).toBe(before + 2);
  });

  it('is 401 for a session token, an M2M token, a revoked key, or no token', async () => {
    const revoked = issuer.apiKey({ subject: 'user_alice' }).token;
    issuer.revoke(revoked);
    const cases: Array<[string | undefined, string]> = [
      [await token(ADMIN), 'Bearer error="invalid_token", error_description="token-type-mismatch"'],
      [await issuer.m2mToken({ machineId: 'mch_1' }), 'Bearer error="invalid_token", error_description="token-type-mismatch"'],
      [revoked, 'Bearer error="invalid_token"'],
      [undefined, 'Bearer'],
    ];
    for (const [credential, challenge] of cases) {
      const res = await get(url, 'keys.ping', credential === undefined ? {} : { token: credential });
      expect(res.status).toBe(401);
      expect(errorCode(res.body)).toBe('UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')?.startsWith(challenge)).toBe(true);
    }
  });

  it('the access log names the machine for machine calls, never the token', async () => {
    const key = issuer.apiKey({ subject: 'org_logged' }).token;
    await get(url, 'keys.ping', { token: key });
    await get(url, 'machine.ping', { token: await issuer.m2mToken({ machineId: 'mch_logged' }) });
    expect(server.log.some((line) => / \/trpc\/keys\.ping 200 org_logged [\d.]+ms$/.test(line))).toBe(true);
    expect(server.log.some((line) => / \/trpc\/machine\.ping 200 mch_logged [\d.]+ms$/.test(line))).toBe(true);
    expect(server.log.join('\n')).not.toContain(key);
  });
});

describe('an organization guard: authorize({ organization: true }) and .meta({ auth: { organization: true } })', () => {
  let served: Served;
  let orgUrl: string;

  beforeAll(async () => {
    const clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
    const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ errorFormatter: clerkErrorFormatter });
    const { protectedProcedure, authorize } = clerkProcedures(t);
    const router = t.router({
      orgId: protectedProcedure.use(authorize({ organization: true })).query(({ ctx }) => ctx.auth.orgId.toUpperCase()),
      orgMeta: protectedProcedure.meta({ auth: { organization: true } }).query(({ ctx }) => ctx.auth.orgId ?? null),
    });
    const createContext = createClerkContext(clerkAuth);
    served = await serve((req) => fetchRequestHandler({ endpoint: '/trpc', req, router, createContext }), { port: 0, host: '127.0.0.1', name: 'org', log: () => {} });
    orgUrl = `${served.url}/trpc`;
  });

  afterAll(async () => {
    await served?.close();
  });

  it('refuses a personal-account session with 403 and a reason naming the active organization', async () => {
    for (const path of ['orgId', 'orgMeta']) {
      const res = await get(orgUrl, path, { token: await token(ALICE) });
      expect(res.status, path).toBe(403);
      expect(errorCode(res.body)).toBe('FORBIDDEN');
      expect(errorOf(res.body).message).toMatch(/needs an active organization.*personal account/);
    }
  });

  it('admits a session with an active organization, orgId a string', async () => {
    const member = await token({ userId: 'user_m', org: { id: 'org_acme', role: 'member' } });
    expect((await get(orgUrl, 'orgId', { token: member })).body).toEqual({ result: { data: 'ORG_ACME' } });
    expect((await get(orgUrl, 'orgMeta', { token: member })).body).toEqual({ result: { data: 'org_acme' } });
    expect((await get(orgUrl, 'orgId')).status).toBe(401);
  });
});
