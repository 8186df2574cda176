/**
 * Server-side calls (`createCaller`) with contexts built from a token or an auth object, the guards'
 * semantics (requirements, `.meta({ auth })`, typed causes, construction-time validation), the
 * user's `errorFormatter`, and `createContext` never throwing for hostile input.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { observable } from '@trpc/server/observable';
import { z, ZodError } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClerkAuthConfigError, createClerkAuth, ForbiddenError, UnauthenticatedError, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkContextFromAuth, clerkContextFromToken, clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { NotesStore } from '../../examples/shared/notes.js';
import { appRouter } from '../../examples/trpc/router.js';
import { startOfSecond } from '../support/clock.js';
import { until } from './helpers.js';

const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
const resolved: string[] = [];
const router = t.router({
  whoami: protectedProcedure.query(({ ctx }) => ctx.auth.userId),
  admin: protectedProcedure.use(authorize({ role: 'org:admin' })).query(() => 'admin'),
  metaAdmin: publicProcedure.meta({ auth: { role: ['org:admin', 'org:owner'] } }).query(({ ctx }) => ctx.auth.userId),
  appAdmin: t.procedure.use(authorize({ appRole: 'admin' })).query(({ ctx }) => ctx.auth.userId),
  vip: protectedProcedure.meta({ auth: { predicate: (auth) => auth.isAuthenticated && 'userId' in auth && auth.userId === 'user_vip' } }).query(() => 'vip'),
  scoped: machineProcedure.use(authorize({ token: 'm2m_token', scope: 'mch_notes' })).query(({ ctx }) => ctx.auth.machineId),
  // A plain `meta.auth` that bypassed the builders' types (t.procedure's own .meta, cast).
  typo: t.procedure.concat(publicProcedure).meta({ auth: { rol: 'org:admin' } } as never).query(() => {
    resolved.push('typo');
    return 'reached';
  }),
  profile: protectedProcedure.query(async ({ ctx }) => (await ctx.clerk.users.getUser(ctx.auth.userId)).id),
  ticks: protectedProcedure.subscription(() =>
    observable<number>((emit) => {
      let n = 0;
      const timer = setInterval(() => emit.next(n++), 20);
      return () => clearInterval(timer);
    }),
  ),
});

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ jwtKey: issuer.jwtKey, env: {} });
});

describe('createCaller with a context from a token', () => {
  it('is a three-line unit test of a protected procedure', async () => {
    const caller = router.createCaller(await clerkContextFromToken(await issuer.sessionToken({ userId: 'user_1' }), { jwtKey: issuer.jwtKey }));
    expect(await caller.whoami()).toBe('user_1');
  });

  it('works for the reference app, whose context adds its own fields', async () => {
    const ctx = await clerkContextFromToken(await issuer.sessionToken({ userId: 'user_1' }), clerkAuth);
    const caller = appRouter.createCaller({ ...ctx, notes: new NotesStore() });
    expect(await caller.whoami()).toMatchObject({ userId: 'user_1' });
    await expect(caller.notes.create({ text: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('throws UNAUTHORIZED whose cause is the core UnauthenticatedError, for no token or a bad one', async () => {
    for (const [token, reason] of [
      [null, 'token-missing'],
      ['garbage', 'token-invalid'],
      [await issuer.sessionToken({ expiresInSeconds: -30 }), 'token-expired'],
    ] as const) {
      const caller = router.createCaller(await clerkContextFromToken(token, clerkAuth));
      const error = await caller.whoami().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe('UNAUTHORIZED');
      expect((error as TRPCError).cause).toBeInstanceOf(UnauthenticatedError);
      expect(((error as TRPCError).cause as UnauthenticatedError).reason).toBe(reason);
    }
  });

  it('throws FORBIDDEN whose cause lists what failed', async () => {
    const caller = router.createCaller(await clerkContextFromToken(await issuer.sessionToken({ org: { id: 'org_1', role: 'member' } }), clerkAuth));
    const error = (await caller.admin().catch((e: unknown) => e)) as TRPCError;
    expect(error.code).toBe('FORBIDDEN');
    expect(error.cause).toBeInstanceOf(ForbiddenError);
    expect((error.cause as ForbiddenError).failed).toEqual(['role']);
  });

  it('stops admitting a context once its token expires (a long-lived context, as a WebSocket has)', async () => {
    const shortLived = createClerkAuth({ jwtKey: issuer.jwtKey, env: {}, clockSkewInMs: 0 });
    await startOfSecond();
    const ctx = await clerkContextFromToken(await issuer.sessionToken({ userId: 'user_1', expiresInSeconds: 2 }), shortLived);
    const caller = router.createCaller(ctx);
    expect(await caller.whoami()).toBe('user_1');
    const exp = ctx.auth.isAuthenticated ? (ctx.auth.sessionClaims.exp as number) * 1000 : 0;
    await until(() => Date.now() > exp + 50, 5000, 'the token to expire');
    await expect(caller.whoami()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('token-expired') });
  });

  it('ends an observable subscription with UNAUTHORIZED at expiry', async () => {
    const shortLived = createClerkAuth({ jwtKey: issuer.jwtKey, env: {}, clockSkewInMs: 0 });
    await startOfSecond();
    const caller = router.createCaller(await clerkContextFromToken(await issuer.sessionToken({ expiresInSeconds: 2 }), shortLived));
    const ticks = await caller.ticks();
    const seen: number[] = [];
    const error = await new Promise<unknown>((resolve) => {
      ticks.subscribe({ next: (n: number) => seen.push(n), error: resolve, complete: () => resolve('completed') });
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('token-expired') });
  });
});

describe('createCaller with a context from an auth object', () => {
  it('trusts the given auth object and guards it like any other', async () => {
    const { auth } = await clerkAuth.authenticate(await issuer.sessionToken({ userId: 'user_2', org: { id: 'o', role: 'admin' } }));
    const caller = router.createCaller(clerkContextFromAuth(auth));
    expect(await caller.whoami()).toBe('user_2');
    expect(await caller.admin()).toBe('admin');
    const anonymous = router.createCaller(clerkContextFromAuth((await clerkAuth.authenticate(null)).auth));
    await expect(anonymous.whoami()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('answers NOT_IMPLEMENTED, naming the fix, when a resolver uses ctx.clerk without a client', async () => {
    const { auth } = await clerkAuth.authenticate(await issuer.sessionToken({ userId: 'user_2' }));
    const error = (await router.createCaller(clerkContextFromAuth(auth)).profile().catch((e: unknown) => e)) as TRPCError;
    expect(error.code).toBe('NOT_IMPLEMENTED');
    expect(error.message).toMatch(/clerkContextFromAuth/);
  });
});

describe('requirements', () => {
  it('enforces .meta({ auth }) on publicProcedure: any-of roles', async () => {
    const as = async (token: string | null) => router.createCaller(await clerkContextFromToken(token, clerkAuth)).metaAdmin();
    await expect(as(null)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(as(await issuer.sessionToken({ org: { id: 'o', role: 'member' } }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await as(await issuer.sessionToken({ userId: 'owner', org: { id: 'o', role: 'owner' } }))).toBe('owner');
  });

  it('reads application roles from session claims and runs predicates', async () => {
    const as = async (options: Parameters<TestIssuer['sessionToken']>[0]) => router.createCaller(await clerkContextFromToken(await issuer.sessionToken(options), clerkAuth));
    expect(await (await as({ userId: 'a', claims: { metadata: { role: 'admin' } } })).appAdmin()).toBe('a');
    await expect((await as({ userId: 'b', claims: { metadata: { role: 'user' } } })).appAdmin()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await (await as({ userId: 'user_vip' })).vip()).toBe('vip');
    await expect((await as({ userId: 'user_plain' })).vip()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('checks machine scopes', async () => {
    const as = async (token: string) => router.createCaller(await clerkContextFromToken(token, clerkAuth)).scoped();
    expect(await as(await issuer.m2mToken({ machineId: 'mch_a', scopes: ['mch_notes'] }))).toBe('mch_a');
    await expect(as(await issuer.m2mToken({ machineId: 'mch_b', scopes: ['mch_other'] }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('rejects a malformed .meta({ auth }) when the procedure is built', () => {
    expect(() => publicProcedure.meta({ auth: { rol: 'org:admin' } as never })).toThrow(ClerkAuthConfigError);
    expect(() => publicProcedure.meta({ auth: { rol: 'org:admin' } as never })).toThrow(/"rol"/);
  });

  it('fails closed on a malformed meta.auth that bypassed the builders: the resolver never runs', async () => {
    const caller = router.createCaller(await clerkContextFromToken(await issuer.sessionToken(), clerkAuth));
    const error = (await caller.typo().catch((e: unknown) => e)) as TRPCError;
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.cause).toBeInstanceOf(ClerkAuthConfigError);
    expect(error.message).toContain('"rol"');
    expect(resolved).toEqual([]);
  });

  it('validates authorize() requirements at construction, naming the fix', () => {
    expect(() => authorize({ rol: 'org:admin' } as never)).toThrow(ClerkAuthConfigError);
    expect(() => authorize({ role: '' })).toThrow(/non-empty/);
    expect(() => authorize({ permission: [] })).toThrow(/non-empty/);
    expect(() => authorize({ token: 'jwt' as never })).toThrow(/session_token/);
    expect(() => authorize({ predicate: true as never })).toThrow(/function/);
    expect(() => authorize(null as never)).toThrow(/must be an object/);
  });
});

describe("the user's errorFormatter", () => {
  it('shapes guard errors and zod errors alike', async () => {
    const tf = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({
      errorFormatter: ({ shape, error }) => ({
        ...shape,
        data: {
          ...shape.data,
          zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
          authReason: error.cause instanceof UnauthenticatedError ? error.cause.reason : null,
        },
      }),
    });
    const procedures = clerkProcedures(tf);
    const shaped = tf.router({ create: procedures.protectedProcedure.input(z.object({ text: z.string().min(1) })).mutation(({ input }) => input.text) });
    const call = async (token: string | undefined, body: unknown) => {
      const req = new Request('http://localhost/trpc/create', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
      const response = await fetchRequestHandler({ endpoint: '/trpc', req, router: shaped, createContext: createClerkContext(clerkAuth) });
      return { status: response.status, body: (await response.json()) as { error: { data: Record<string, unknown> } } };
    };
    const signedOut = await call(undefined, { text: 'a' });
    expect(signedOut.status).toBe(401);
    expect(signedOut.body.error.data).toMatchObject({ code: 'UNAUTHORIZED', authReason: 'token-missing', zodError: null });
    const invalid = await call(await issuer.sessionToken(), { text: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.data).toMatchObject({ code: 'BAD_REQUEST', authReason: null, zodError: { fieldErrors: { text: [expect.any(String)] } } });
  });
});

describe('createContext never throws for a bad credential', () => {
  it('resolves signed out with a reason for hostile requests and connection params', async () => {
    const createContext = createClerkContext(clerkAuth);
    const cases: Array<[Parameters<typeof createContext>[0], string]> = [
      [{ req: new Request('http://x/', { headers: { authorization: 'Basic dTpw' } }) }, 'malformed-authorization-header'],
      [{ req: new Request('http://x/', { headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } }) }, 'token-too-large'],
      [{ req: new Request('http://x/', { headers: [['authorization', 'Bearer a'], ['authorization', 'Bearer b']] }) }, 'multiple-authorization-headers'],
      [{ req: { headers: { authorization: 'Bearer a' }, rawHeaders: ['Authorization', 'Bearer a', 'authorization', 'Bearer b'] } }, 'multiple-authorization-headers'],
      [{ req: { headers: {} }, info: { connectionParams: { token: 'x'.repeat(20_000) } } }, 'token-too-large'],
      [{ req: { headers: {} }, info: { connectionParams: { token: 'not a token' } } }, 'malformed-authorization-header'],
      [{ req: { headers: {} }, info: { connectionParams: null } }, 'token-missing'],
      [{ req: { headers: { authorization: 'Bearer eyJ.eyJ.sig' } } }, 'token-invalid'],
    ];
    for (const [opts, reason] of cases) {
      const ctx = await createContext(opts);
      expect(ctx.auth.isAuthenticated, reason).toBe(false);
      expect(ctx.signedOutReason).toBe(reason);
    }
  });
});
