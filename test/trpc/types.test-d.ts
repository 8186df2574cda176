/**
 * Type-level guarantees of clerk-api-auth/trpc (checked by `vitest typecheck`; nothing here runs).
 */
import { createTRPCClient, httpBatchLink, isTRPCClientError, type TRPCClientError } from '@trpc/client';
import { initTRPC, type inferRouterContext, type inferRouterInputs, type inferRouterOutputs } from '@trpc/server';
import { awsLambdaRequestHandler, type CreateAWSLambdaContextOptions } from '@trpc/server/adapters/aws-lambda';
import { createExpressMiddleware, type CreateExpressContextOptions } from '@trpc/server/adapters/express';
import { fastifyTRPCPlugin, type CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import { fetchRequestHandler, type FetchCreateContextFnOptions } from '@trpc/server/adapters/fetch';
import { createNextApiHandler } from '@trpc/server/adapters/next';
import { createHTTPServer, type CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import { applyWSSHandler, type CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import Fastify from 'fastify';
import type { WebSocketServer } from 'ws';
import { z, ZodError } from 'zod';
import { describe, expectTypeOf, test } from 'vitest';
import type { AuthenticatedMachineObject, AuthRequirement, ClerkClient, MissingEntitlements, ReverificationHint, SignedInAuthObject, SignedOutAuthObject, SignedOutReason } from 'clerk-api-auth';
import {
  clerkContextFromToken,
  clerkErrorFormatter,
  clerkProcedures,
  clerkResponseMeta,
  createClerkContext,
  type AuthForRequirement,
  type ClerkContext,
  type ClerkContextAdapterOptions,
  type ClerkLambdaEvent,
  type ClerkMeta,
  type ClerkResponseMeta,
  type WithActiveOrganization,
} from 'clerk-api-auth/trpc';

const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);

describe('ctx.auth narrowing', () => {
  test('userId is string inside protectedProcedure and string | null outside', () => {
    protectedProcedure.query(({ ctx }) => {
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
      expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject>();
      return null;
    });
    t.procedure.query(({ ctx }) => {
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string | null>();
      expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject | SignedOutAuthObject>();
      expectTypeOf(ctx.signedOutReason).toEqualTypeOf<SignedOutReason | null>();
      expectTypeOf(ctx.clerk).toEqualTypeOf<ClerkClient>();
      return null;
    });
    publicProcedure.query(({ ctx }) => {
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string | null>();
      return null;
    });
  });

  test('the narrowing survives further middlewares, inputs and .meta()', () => {
    protectedProcedure
      .use(authorize({ role: 'org:admin' }))
      .meta({ auth: { permission: 'org:notes:create' } })
      .input(z.object({ text: z.string() }))
      .mutation(({ ctx, input }) => {
        expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
        expectTypeOf(input).toEqualTypeOf<{ text: string }>();
        return null;
      });
    t.procedure.use(authorize({ permission: 'org:notes:create' })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
      return null;
    });
  });

  test('machine procedures are typed by token kind; OAuth access tokens only where named', () => {
    machineProcedure.query(({ ctx }) => {
      expectTypeOf(ctx.auth).toEqualTypeOf<AuthenticatedMachineObject<'m2m_token' | 'api_key'>>();
      expectTypeOf(ctx.auth.scopes).toEqualTypeOf<string[]>();
      expectTypeOf(ctx.auth.tokenType).toEqualTypeOf<'api_key' | 'm2m_token'>();
      return null;
    });
    publicProcedure.use(authorize({ token: 'oauth_token' })).query(({ ctx }) => {
      expectTypeOf(ctx.auth).toEqualTypeOf<AuthenticatedMachineObject<'oauth_token'>>();
      expectTypeOf(ctx.auth.clientId).toEqualTypeOf<string>();
      return null;
    });
    machineProcedure.use(authorize({ token: 'm2m_token' })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.machineId).toEqualTypeOf<string>();
      expectTypeOf(ctx.auth.scopes).toEqualTypeOf<string[]>();
      return null;
    });
    t.procedure.use(authorize({ token: ['session_token', 'oauth_token'] })).query(({ ctx }) => {
      expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject | AuthenticatedMachineObject<'oauth_token'>>();
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
      return null;
    });
    t.procedure.use(authorize({ token: 'any' })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.isAuthenticated).toEqualTypeOf<true>();
      return null;
    });
  });

  test('.meta() takes the core requirement and nothing else', () => {
    protectedProcedure.meta({ auth: { role: ['org:admin', 'org:owner'], feature: 'export', plan: 'pro', reverification: 'strict', appRole: 'admin', scope: 's', predicate: (auth) => auth.isAuthenticated } });
    // @ts-expect-error -- `rol` is not a requirement key
    protectedProcedure.meta({ auth: { rol: 'org:admin' } });
    // @ts-expect-error -- role must be a string or a list of them
    authorize({ role: 42 });
  });
});

describe('.meta({ auth }) only where a guard reads it', () => {
  test('t.procedure.meta({ auth }) is a compile error: t.procedure enforces nothing', () => {
    // @ts-expect-error -- 'auth' does not exist in type 'ClerkMeta'
    t.procedure.meta({ auth: { role: 'org:admin' } });
    // @ts-expect-error -- not even `auth: undefined`
    t.procedure.meta({ auth: undefined });
    interface AppMeta extends ClerkMeta {
      description?: string;
    }
    const ta = initTRPC.context<ClerkContext>().meta<AppMeta>().create();
    // @ts-expect-error -- the user's meta type, extending ClerkMeta, refuses it too
    ta.procedure.meta({ auth: { role: 'org:admin' } });
    ta.procedure.meta({ description: 'fine' });
    const procedures = clerkProcedures(ta);
    procedures.protectedProcedure.meta({ description: 'both', auth: { role: 'org:admin' } }).meta({ auth: { permission: 'org:notes:create' } });
    procedures.protectedProcedure.use(({ meta, next }) => {
      expectTypeOf(meta?.description).toEqualTypeOf<string | undefined>();
      return next();
    });
  });

  test('a t whose meta type would take `auth` on t.procedure is refused', () => {
    // @ts-expect-error -- no meta type: t.procedure.meta({ auth }) would compile and guard nothing
    clerkProcedures(initTRPC.context<ClerkContext>().create());
    // @ts-expect-error -- an index signature takes `auth` too
    clerkProcedures(initTRPC.context<ClerkContext>().meta<Record<string, unknown>>().create());
    // A meta type of one's own, without `auth`, is fine.
    clerkProcedures(initTRPC.context<ClerkContext>().meta<{ description?: string }>().create());
  });

  test('procedures with .meta({ auth }) fit routers, createCaller, concat and client inference', () => {
    const router = t.router({
      create: protectedProcedure
        .meta({ auth: { role: 'org:admin' } })
        .meta({ auth: { permission: 'org:notes:create' } })
        .input(z.object({ text: z.string() }))
        .mutation(({ ctx, input }) => ({ authorId: ctx.auth.userId, text: input.text })),
      nested: t.router({ ping: machineProcedure.meta({ auth: { token: 'm2m_token', scope: 's' } }).query(({ ctx }) => ctx.auth.subject) }),
      plain: t.procedure.query(() => 1),
      concatenated: t.procedure.concat(protectedProcedure.meta({ auth: { role: 'org:admin' } })).query(({ ctx }) => ctx.auth.userId),
      reversed: protectedProcedure.concat(t.procedure).query(({ ctx }) => ctx.auth.userId),
    });
    expectTypeOf<inferRouterOutputs<typeof router>['create']>().toEqualTypeOf<{ authorId: string; text: string }>();
    expectTypeOf<inferRouterInputs<typeof router>['create']>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<inferRouterOutputs<typeof router>['nested']['ping']>().toEqualTypeOf<string>();
    expectTypeOf<inferRouterOutputs<typeof router>['concatenated']>().toEqualTypeOf<string>();
    const caller = router.createCaller({} as ClerkContext);
    expectTypeOf(caller.create({ text: 'x' })).toEqualTypeOf<Promise<{ authorId: string; text: string }>>();
    const client = createTRPCClient<typeof router>({ links: [httpBatchLink({ url: 'http://x/trpc' })] });
    expectTypeOf<Awaited<ReturnType<typeof client.create.mutate>>>().toEqualTypeOf<{ authorId: string; text: string }>();
    expectTypeOf<Parameters<typeof client.create.mutate>[0]>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<Awaited<ReturnType<typeof client.nested.ping.query>>>().toEqualTypeOf<string>();
  });
});

describe('what clerkProcedures accepts', () => {
  test('a t whose context lacks `auth` is a compile error', () => {
    const bare = initTRPC.context<{ db: string }>().create();
    // @ts-expect-error -- the context has no `auth`
    clerkProcedures(bare);
    const wrongAuth = initTRPC.context<{ auth: string }>().create();
    // @ts-expect-error -- `auth` is not a Clerk auth object
    clerkProcedures(wrongAuth);
  });

  test('a meta type with an `auth` of its own is a compile error', () => {
    const clash = initTRPC.context<ClerkContext>().meta<{ auth: boolean }>().create();
    // @ts-expect-error -- meta.auth belongs to the builders of clerkProcedures
    clerkProcedures(clash);
    const copied = initTRPC.context<ClerkContext>().meta<{ auth?: AuthRequirement }>().create();
    // @ts-expect-error -- even as a requirement: on t.procedure no guard would read it
    clerkProcedures(copied);
  });

  test("the user's own context fields keep their types", () => {
    interface Db {
      query(sql: string): Promise<unknown[]>;
    }
    const db = {} as Db;
    const clerkContext = createClerkContext();
    const createContext = async (opts: FetchCreateContextFnOptions) => ({ ...(await clerkContext(opts)), db });
    const tt = initTRPC.context<typeof createContext>().meta<ClerkMeta>().create();
    const procedures = clerkProcedures(tt);
    procedures.protectedProcedure.query(({ ctx }) => {
      expectTypeOf(ctx.db).toEqualTypeOf<Db>();
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
      return null;
    });
    procedures.machineProcedure.use(procedures.authorize({ token: 'api_key' })).query(({ ctx }) => {
      expectTypeOf(ctx.db).toEqualTypeOf<Db>();
      expectTypeOf(ctx.auth.tokenType).toEqualTypeOf<'api_key'>();
      return null;
    });
  });
});

describe('createClerkContext fits every adapter', () => {
  const router = t.router({ hello: publicProcedure.query(() => 'hi') });
  const createContext = createClerkContext();

  test('fetch, standalone, Express and WebSocket adapters take it as is', () => {
    void fetchRequestHandler({ endpoint: '/trpc', req: new Request('http://x'), router, createContext });
    createHTTPServer({ router, createContext });
    createExpressMiddleware({ router, createContext });
    applyWSSHandler({ wss: {} as WebSocketServer, router, createContext });
    expectTypeOf<inferRouterContext<typeof router>>().toEqualTypeOf<ClerkContext>();
  });

  test('Fastify, AWS Lambda (v1, v2, both) and Next.js pages adapters take it as is, with clerkResponseMeta', () => {
    void Fastify().register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions: { router, createContext, responseMeta: clerkResponseMeta } });
    awsLambdaRequestHandler({ router, createContext, responseMeta: clerkResponseMeta });
    awsLambdaRequestHandler<typeof router, APIGatewayProxyEventV2>({ router, createContext, responseMeta: clerkResponseMeta });
    awsLambdaRequestHandler<typeof router, APIGatewayProxyEvent>({ router, createContext, responseMeta: clerkResponseMeta });
    // `next` is not installed here, so NextApiRequest is unresolved: the matrix's Next.js legs build this with real types.
    createNextApiHandler({ router, createContext, responseMeta: clerkResponseMeta });
  });

  test("each adapter's createContext options are ClerkContextAdapterOptions, without a cast", () => {
    expectTypeOf<FetchCreateContextFnOptions>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateHTTPContextOptions>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateExpressContextOptions>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateFastifyContextOptions>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateWSSContextFnOptions>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateAWSLambdaContextOptions<APIGatewayProxyEvent>>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<CreateAWSLambdaContextOptions<APIGatewayProxyEventV2>>().toExtend<ClerkContextAdapterOptions>();
    expectTypeOf<ALBEvent>().toExtend<ClerkLambdaEvent>();
    // A wrapper adding fields of its own, for the Lambda and Fastify adapters.
    const lambdaContext = async (opts: CreateAWSLambdaContextOptions<APIGatewayProxyEventV2>) => ({ ...(await createContext(opts)), region: 'eu-west-1' });
    awsLambdaRequestHandler({ router: t.router({}), createContext: lambdaContext });
    const fastifyContext = async (opts: CreateFastifyContextOptions) => ({ ...(await createContext(opts)), ip: opts.req.ip });
    expectTypeOf<Awaited<ReturnType<typeof fastifyContext>>['auth']>().toEqualTypeOf<ClerkContext['auth']>();
    // Neither a request nor an event: refused.
    // @ts-expect-error -- createContext needs `req` or `event`
    void createContext({ info: { connectionParams: null } });
  });

  test('clerkResponseMeta returns a status and headers to build on', () => {
    expectTypeOf(clerkResponseMeta).returns.toEqualTypeOf<ClerkResponseMeta>();
    expectTypeOf<ClerkResponseMeta['headers']>().toEqualTypeOf<Headers | undefined>();
  });

  test('it accepts nothing, options, or a ClerkAuth; contexts for createCaller come from a token', () => {
    createClerkContext({ authorizedParties: ['https://app.example.com'] });
    createClerkContext({ clerkAuth: createContext.clerkAuth, webSocketRefreshMs: false });
    expectTypeOf(clerkContextFromToken('token', createContext.clerkAuth)).toEqualTypeOf<Promise<ClerkContext>>();
    router.createCaller({} as ClerkContext);
  });
});

describe("the user's error shape", () => {
  const tz = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({
    errorFormatter: ({ shape, error }) => ({
      ...shape,
      data: { ...shape.data, zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null },
    }),
  });
  const procedures = clerkProcedures(tz);
  const router = tz.router({
    create: procedures.protectedProcedure.input(z.object({ text: z.string() })).mutation(({ input }) => input.text),
  });

  const plain = tz.router({ create: tz.procedure.input(z.object({ text: z.string() })).mutation(({ input }) => input.text) });

  test('survives on the client type', async () => {
    expectTypeOf<TRPCClientError<typeof router>['data']>().toEqualTypeOf<TRPCClientError<typeof plain>['data']>();
    const client = createTRPCClient<typeof router>({ links: [httpBatchLink({ url: 'http://x/trpc' })] });
    try {
      await client.create.mutate({ text: 'x' });
    } catch (error) {
      if (isTRPCClientError<typeof router>(error)) {
        expectTypeOf(error.data?.zodError).toEqualTypeOf<z.core.$ZodFlattenedError<unknown> | null | undefined>();
        expectTypeOf(error.data?.httpStatus).toEqualTypeOf<number | undefined>();
      }
    }
  });
});

describe('an active organization narrows orgId', () => {
  test('authorize({ organization: true }): orgId is a string, and stays optional elsewhere', () => {
    protectedProcedure.use(authorize({ organization: true })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.orgId).toEqualTypeOf<string>();
      expectTypeOf(ctx.auth.userId).toEqualTypeOf<string>();
      expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject & { orgId: string }>();
      return null;
    });
    protectedProcedure.use(authorize({ role: 'org:admin' })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.orgId).toEqualTypeOf<string | undefined>();
      return null;
    });
    protectedProcedure.meta({ auth: { organization: true } }).query(({ ctx }) => {
      // meta is a value: it enforces, but does not narrow
      expectTypeOf(ctx.auth.orgId).toEqualTypeOf<string | undefined>();
      return null;
    });
  });

  test('an API key under organization: true is an organization’s key; kinds that never have one drop out', () => {
    publicProcedure.use(authorize({ token: 'api_key', organization: true })).query(({ ctx }) => {
      expectTypeOf(ctx.auth.orgId).toEqualTypeOf<string>();
      expectTypeOf(ctx.auth.tokenType).toEqualTypeOf<'api_key'>();
      return null;
    });
    publicProcedure.use(authorize({ token: ['session_token', 'm2m_token'], organization: true })).query(({ ctx }) => {
      expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject & { orgId: string }>();
      return null;
    });
    expectTypeOf<WithActiveOrganization<AuthenticatedMachineObject<'m2m_token'>>>().toBeNever();
    expectTypeOf<AuthForRequirement<{ token: 'oauth_token'; organization: true }>>().toBeNever();
    expectTypeOf<AuthForRequirement<{ feature: 'reports' }>>().toEqualTypeOf<SignedInAuthObject>();
  });

  test('organization takes only `true`', () => {
    // @ts-expect-error `false` is not a requirement (leave the key out)
    authorize({ organization: false });
    // @ts-expect-error nor is a string
    const bad: AuthRequirement = { organization: 'yes' };
    void bad;
  });
});

describe('features, plans and reverification', () => {
  test('are requirements like any other, and do not change ctx.auth', () => {
    protectedProcedure
      .use(authorize({ feature: 'reports', plan: ['pro', 'team'] }))
      .use(authorize({ reverification: 'strict' }))
      .use(authorize({ reverification: { level: 'second_factor', afterMinutes: 5 } }))
      .mutation(({ ctx }) => {
        expectTypeOf(ctx.auth).toEqualTypeOf<SignedInAuthObject>();
        return null;
      });
    // @ts-expect-error not a Clerk reverification preset
    authorize({ reverification: 'sometimes' });
    // @ts-expect-error a custom window needs a Clerk level
    authorize({ reverification: { level: 'third_factor', afterMinutes: 5 } });
  });

  test('clerkErrorFormatter types the hint and what payment would grant on the client', async () => {
    const tc = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ errorFormatter: clerkErrorFormatter });
    const procedures = clerkProcedures(tc);
    const router = tc.router({ rotate: procedures.protectedProcedure.use(procedures.authorize({ reverification: 'strict' })).mutation(() => true) });
    const client = createTRPCClient<typeof router>({ links: [httpBatchLink({ url: 'http://x/trpc' })] });
    try {
      await client.rotate.mutate();
    } catch (error) {
      if (isTRPCClientError<typeof router>(error)) {
        expectTypeOf(error.data?.clerk_error).toEqualTypeOf<ReverificationHint['clerk_error'] | undefined>();
        expectTypeOf(error.data?.missing).toEqualTypeOf<MissingEntitlements | undefined>();
        expectTypeOf<'PAYMENT_REQUIRED'>().toExtend<NonNullable<typeof error.data>['code']>();
      }
    }
    // Composed with the user's own formatter, both survive.
    const tu = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({
      errorFormatter: (opts) => clerkErrorFormatter({ ...opts, shape: { ...opts.shape, data: { ...opts.shape.data, requestId: 'r1' } } }),
    });
    const composed = tu.router({ ping: tu.procedure.query(() => 1) });
    expectTypeOf<NonNullable<TRPCClientError<typeof composed>['data']>['requestId']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<TRPCClientError<typeof composed>['data']>['clerk_error']>().toEqualTypeOf<ReverificationHint['clerk_error'] | undefined>();
  });
});
