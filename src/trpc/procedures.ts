import type { TRPCMiddlewareFunction, TRPCProcedureBuilder, TRPCUnsetMarker } from '@trpc/server';
import type { AuthenticatedMachineObject, AuthRequirement, ClerkAuthObject, SignedInAuthObject } from '../core/index.js';
import { guardMiddleware } from './guard.js';
import { validateRequirement } from '../core/requirement.js';
import type { AuthForToken } from './requirement.js';

/**
 * The metadata `clerkProcedures` reads: `.meta({ auth: requirement })` guards one procedure with the
 * core's requirement (role, permission, feature, plan, reverification, app role, scope, token kind,
 * predicate). Add it to your own meta type with `&`.
 *
 * It adds to what the builder already requires and leaves `ctx.auth`'s type as the builder set it
 * (meta is a value, not a type): on `protectedProcedure` a `token` other than `'session_token'` can
 * never hold. Use `authorize()` when the requirement should also narrow `ctx.auth`. A malformed
 * `meta.auth` (say `{ rol: … }`) fails closed: the call answers `INTERNAL_SERVER_ERROR`, the resolver
 * never runs.
 *
 * @example
 * ```ts
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * const { protectedProcedure } = clerkProcedures(t);
 * const createNote = protectedProcedure.meta({ auth: { permission: 'org:notes:create' } }).mutation(() => 'ok');
 * ```
 */
export interface ClerkMeta {
  /** What the caller needs, on top of what the procedure builder already requires. */
  auth?: AuthRequirement;
}

/**
 * A procedure builder as `t.procedure` is, with context overrides.
 *
 * @example
 * ```ts
 * type Protected = ClerkProcedureBuilder<ClerkContext, ClerkMeta, { auth: SignedInAuthObject }, TRPCDefaultErrorShape>;
 * ```
 */
export type ClerkProcedureBuilder<TContext, TMeta, TContextOverrides, TErrorShape> = TRPCProcedureBuilder<
  TContext,
  TMeta,
  TContextOverrides,
  TRPCUnsetMarker,
  TRPCUnsetMarker,
  TRPCUnsetMarker,
  TRPCUnsetMarker,
  false,
  TErrorShape
>;

/**
 * The part of `initTRPC…create()` that `clerkProcedures` needs. Its context must have `auth`
 * (use `ClerkContext`, or spread `createClerkContext`'s result into yours).
 *
 * @example
 * ```ts
 * const t: ClerkTRPCRoot<ClerkContext, ClerkMeta, TRPCDefaultErrorShape> = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * ```
 */
export interface ClerkTRPCRoot<TContext, TMeta, TErrorShape> {
  procedure: ClerkProcedureBuilder<TContext, TMeta, object, TErrorShape>;
}

type TokenOf<R> = R extends { token: infer K } ? K : undefined;

/**
 * What `clerkProcedures(t)` returns.
 *
 * @example
 * ```ts
 * const { publicProcedure, protectedProcedure, machineProcedure, authorize }: ClerkProcedures<ClerkContext, ClerkMeta, TRPCDefaultErrorShape> = clerkProcedures(t);
 * ```
 */
export interface ClerkProcedures<TContext, TMeta, TErrorShape> {
  /**
   * `t.procedure` that also enforces `.meta({ auth })` when a procedure sets it. Use it instead of
   * `t.procedure` so that no `meta.auth` is ever silently ignored. `ctx.auth` stays the session
   * view (`userId: string | null`).
   */
  publicProcedure: ClerkProcedureBuilder<TContext, TMeta, object, TErrorShape>;
  /**
   * Signed in with a valid, active session token (machine tokens get 401). `ctx.auth` is
   * `SignedInAuthObject`: `ctx.auth.userId` is a `string`. Enforces `.meta({ auth })` too.
   */
  protectedProcedure: ClerkProcedureBuilder<TContext, TMeta, { auth: SignedInAuthObject }, TErrorShape>;
  /**
   * Authenticated with a machine token — M2M, API key or OAuth access token (session tokens get
   * 401). `ctx.auth` is `AuthenticatedMachineObject` (`subject`, `scopes`, and by kind `machineId`,
   * `userId`, `clientId`…); narrow it further with `.use(authorize({ token: 'm2m_token' }))`.
   */
  machineProcedure: ClerkProcedureBuilder<TContext, TMeta, { auth: AuthenticatedMachineObject }, TErrorShape>;
  /**
   * A middleware that requires `requirement` and narrows `ctx.auth` to the token kinds it accepts
   * (a session unless `token` says otherwise). Checked at construction: a typo throws at startup.
   */
  authorize<const TRequirement extends AuthRequirement>(
    requirement: TRequirement,
  ): TRPCMiddlewareFunction<TContext, TMeta, { auth: ClerkAuthObject }, { auth: AuthForToken<TokenOf<TRequirement>> }, unknown>;
}

/**
 * Builds the guarded procedures and the `authorize` middleware for your `t`. Unauthenticated
 * callers get `TRPCError` `UNAUTHORIZED` (HTTP 401, with `WWW-Authenticate` where the adapter
 * exposes response headers), callers lacking a role or permission get `FORBIDDEN` (403), and a
 * Backend API outage while verifying gets `SERVICE_UNAVAILABLE` (503, `Retry-After`); each error's
 * `cause` is the core's typed error. Your `errorFormatter` shapes them like any other error.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server';
 * import { z } from 'zod';
 * import { clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
 *
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * export const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
 * const adminProcedure = protectedProcedure.use(authorize({ role: 'org:admin' }));
 *
 * export const appRouter = t.router({
 *   whoami: protectedProcedure.query(({ ctx }) => ctx.auth.userId), // string
 *   stats: adminProcedure.query(() => ({ ok: true })),
 *   create: protectedProcedure
 *     .meta({ auth: { permission: 'org:notes:create' } })
 *     .input(z.object({ text: z.string() }))
 *     .mutation(({ ctx, input }) => ({ authorId: ctx.auth.userId, text: input.text })),
 *   ping: machineProcedure.use(authorize({ token: 'm2m_token' })).query(({ ctx }) => ctx.auth.machineId),
 * });
 * ```
 *
 * @see https://trpc.io/docs/server/authorization
 */
export function clerkProcedures<TContext extends { auth: ClerkAuthObject }, TMeta extends ClerkMeta, TErrorShape>(
  t: ClerkTRPCRoot<TContext, TMeta, TErrorShape>,
): ClerkProcedures<TContext, TMeta, TErrorShape> {
  // The guards are written against tRPC's runtime contract, which the builder types express per procedure.
  type Use = (middleware: ReturnType<typeof guardMiddleware>) => never;
  const use = (t.procedure.use as unknown as Use).bind(t.procedure);
  return {
    publicProcedure: use(guardMiddleware(null, true)),
    protectedProcedure: use(guardMiddleware({}, true)),
    machineProcedure: use(guardMiddleware({ token: ['m2m_token', 'api_key', 'oauth_token'] }, true)),
    authorize(requirement) {
      const middleware = guardMiddleware(validateRequirement(requirement, 'authorize(requirement)'), false);
      return middleware as unknown as ReturnType<ClerkProcedures<TContext, TMeta, TErrorShape>['authorize']>;
    },
  };
}
