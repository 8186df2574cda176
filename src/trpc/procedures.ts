import type { TRPCMiddlewareFunction, TRPCProcedureBuilder, TRPCUnsetMarker } from '@trpc/server';
import { validateRequirement, type AuthenticatedMachineObject, type AuthRequirement, type ClerkAuthObject, type MachineTokenType, type SignedInAuthObject } from '../core/internal.js';
import { clerkBuilder, registerGuard } from './builder.js';
import { guardMiddleware } from './guard.js';
import type { AuthForRequirement } from './requirement.js';

declare const clerkMetaBrand: unique symbol;

/**
 * The meta type to declare on your tRPC instance: `initTRPC.context<…>().meta<ClerkMeta>()`, or
 * your own meta type `& ClerkMeta`. It has no `auth`, on purpose: on `t.procedure` no guard would
 * read one, so `t.procedure.meta({ auth })` is a compile error ("'auth' does not exist in type
 * 'ClerkMeta'"). Requirements go on the builders of `clerkProcedures(t)`, whose meta type adds
 * `auth` (see `ClerkProcedureMeta`). `clerkProcedures(t)` refuses a `t` whose meta type would
 * accept an `auth` key (no meta type at all, an index signature, or an `auth` of its own).
 *
 * @example
 * ```ts
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * const { protectedProcedure } = clerkProcedures(t);
 * const createNote = protectedProcedure.meta({ auth: { permission: 'org:notes:create' } }).mutation(() => 'ok');
 * t.procedure.meta({ auth: { role: 'org:admin' } }); // compile error: t.procedure enforces nothing
 * ```
 */
export interface ClerkMeta {
  /** A brand: it makes TypeScript check `.meta({ … })` on `t.procedure` for unknown keys such as `auth`. Never set it. */
  readonly [clerkMetaBrand]?: never;
}

/**
 * The meta type of the builders `clerkProcedures(t)` returns: yours, plus `auth`.
 *
 * `.meta({ auth: requirement })` guards the procedure with the core's requirement (role,
 * permission, feature, plan, reverification, app role, scope, token kind, predicate), on top of
 * what the builder already requires. Requirements add up: each `.meta({ auth })` in a chain must
 * hold (AND), and none can be removed or replaced (tRPC merges meta shallowly; these builders
 * keep every requirement under a key of their own). Each is checked when the procedure is built:
 * a malformed one (`{ rol: … }`), `auth: undefined`, or one that no token the builder admits can
 * meet (a `token` other than `'session_token'` on `protectedProcedure`; no `token` — which means a
 * session — on `machineProcedure`) throws `ClerkAuthConfigError` at startup.
 *
 * Meta is a value, not a type: `ctx.auth` keeps the type the builder gave it. Use `authorize()`
 * when the requirement should also narrow `ctx.auth`. `auth` is consumed by the builder: it is not
 * in the procedure's `_def.meta` for other middlewares to read.
 *
 * @example
 * ```ts
 * const createNote = protectedProcedure
 *   .meta({ auth: { role: 'org:admin' } })
 *   .meta({ auth: { permission: 'org:notes:create' } }) // both must hold
 *   .mutation(() => 'ok');
 * ```
 */
export type ClerkProcedureMeta<TMeta> = TMeta & {
  /** What the caller needs, on top of what the builder and earlier `.meta({ auth })` calls require. */
  auth?: AuthRequirement;
};

/**
 * A procedure builder as `t.procedure` is, with context overrides and `ClerkProcedureMeta` as its
 * meta type.
 *
 * @example
 * ```ts
 * type Protected = ClerkProcedureBuilder<ClerkContext, ClerkMeta, { auth: SignedInAuthObject }, TRPCDefaultErrorShape>;
 * ```
 */
export type ClerkProcedureBuilder<TContext, TMeta, TContextOverrides, TErrorShape> = TRPCProcedureBuilder<
  TContext,
  ClerkProcedureMeta<TMeta>,
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
  procedure: TRPCProcedureBuilder<TContext, TMeta, object, TRPCUnsetMarker, TRPCUnsetMarker, TRPCUnsetMarker, TRPCUnsetMarker, false, TErrorShape>;
}

/**
 * Nothing when `.meta({ auth })` on `t.procedure` is a compile error — the meta type has known keys
 * (so TypeScript checks object literals for unknown ones), no index signature, and no `auth` —
 * and otherwise a property no `t` has, whose name and value say what to do.
 */
type MetaRefusingAuth<TMeta> = [keyof TMeta] extends [never]
  ? MetaMustRefuseAuth
  : string extends keyof TMeta
    ? MetaMustRefuseAuth
    : 'auth' extends keyof TMeta
      ? MetaMustRefuseAuth
      : unknown;

interface MetaMustRefuseAuth {
  'clerkProcedures(t) needs a meta type without `auth`': 'declare it with initTRPC.context<…>().meta<ClerkMeta>() (or your meta type & ClerkMeta), so that t.procedure.meta({ auth }), which no guard reads, is a compile error';
}

/** What `machineProcedure` admits: a machine's own credentials. OAuth access tokens are opt-in by name. */
const MACHINE_KINDS: readonly MachineTokenType[] = ['m2m_token', 'api_key'];

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
   * `t.procedure` that also enforces `.meta({ auth })` when a procedure sets it (on `t.procedure`
   * itself `auth` is a compile error: nothing would enforce it). `ctx.auth` stays the session view
   * (`userId: string | null`). The base for procedures that accept OAuth access tokens:
   * `publicProcedure.use(authorize({ token: 'oauth_token' }))`.
   */
  publicProcedure: ClerkProcedureBuilder<TContext, TMeta, object, TErrorShape>;
  /**
   * Signed in with a valid, active session token (machine tokens get 401). `ctx.auth` is
   * `SignedInAuthObject`: `ctx.auth.userId` is a `string`. Enforces `.meta({ auth })` too.
   */
  protectedProcedure: ClerkProcedureBuilder<TContext, TMeta, { auth: SignedInAuthObject }, TErrorShape>;
  /**
   * Authenticated with a machine's own credential: an M2M token or an API key. Session tokens and
   * OAuth access tokens get 401 `token-type-mismatch`: an OAuth access token is issued to a
   * third-party OAuth client acting for a user, whichever client of your instance that is, so it
   * counts only where a procedure opts in by name with `authorize({ token: 'oauth_token' })`
   * (built from `publicProcedure`, not from this builder). `ctx.auth` is
   * `AuthenticatedMachineObject<'m2m_token' | 'api_key'>` (`subject`, `scopes`, and by kind
   * `machineId`, `name`…); narrow it further with `.use(authorize({ token: 'm2m_token' }))`.
   * Requirements on it must name their `token` (`authorize({ token: 'm2m_token', scope })`): one
   * without `token` means a session, which this builder never admits, and throws at startup.
   */
  machineProcedure: ClerkProcedureBuilder<TContext, TMeta, { auth: AuthenticatedMachineObject<'m2m_token' | 'api_key'> }, TErrorShape>;
  /**
   * A middleware that requires `requirement` and narrows `ctx.auth` to the token kinds it accepts
   * (a session unless `token` says otherwise), and under `organization: true` to an auth object
   * whose `orgId` is a `string`. Checked at construction: a typo throws at startup, and so does
   * using it on a builder none of whose tokens it accepts
   * (`machineProcedure.use(authorize({ token: 'oauth_token' }))`). Roles and permissions are typed
   * by Clerk's `ClerkAuthorization` declaration when the app makes one.
   */
  authorize<const TRequirement extends AuthRequirement>(
    requirement: TRequirement,
  ): TRPCMiddlewareFunction<TContext, TMeta, { auth: ClerkAuthObject }, { auth: AuthForRequirement<TRequirement> }, unknown>;
}

/**
 * Builds the guarded procedures and the `authorize` middleware for your `t`. Unauthenticated
 * callers get `TRPCError` `UNAUTHORIZED` (HTTP 401, with `WWW-Authenticate` where the adapter
 * exposes response headers), callers lacking a role, permission or active organization get
 * `FORBIDDEN` (403), callers whose plan lacks a billing feature or plan get `PAYMENT_REQUIRED`
 * (402), callers not recently reverified get `FORBIDDEN` (403) with Clerk's reverification hint,
 * and a Backend API outage while verifying gets `SERVICE_UNAVAILABLE` (503, `Retry-After`); each
 * error's `cause` is the core's typed error. Your `errorFormatter` shapes them like any other
 * error; `clerkErrorFormatter` adds the hint (`data.clerk_error`) and what payment would grant
 * (`data.missing`).
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
export function clerkProcedures<TContext extends { auth: ClerkAuthObject }, TMeta extends object, TErrorShape>(
  t: ClerkTRPCRoot<TContext, TMeta, TErrorShape> & MetaRefusingAuth<TMeta>,
): ClerkProcedures<TContext, TMeta, TErrorShape> {
  // The guards are written against tRPC's runtime contract, which the builder types express per procedure.
  type Use = (middleware: ReturnType<typeof guardMiddleware>) => never;
  const use = (t.procedure.use as unknown as Use).bind(t.procedure);
  const base = (name: string, requirement: AuthRequirement | null) => {
    const middleware = guardMiddleware(requirement, true);
    registerGuard(middleware, { builder: name, requirement });
    return clerkBuilder(use(middleware));
  };
  return {
    publicProcedure: base('publicProcedure', null),
    protectedProcedure: base('protectedProcedure', {}),
    machineProcedure: base('machineProcedure', { token: MACHINE_KINDS }),
    authorize(requirement) {
      const validated = validateRequirement(requirement, 'authorize(requirement)');
      const middleware = guardMiddleware(validated, false);
      registerGuard(middleware, { builder: null, requirement: validated });
      return middleware as unknown as ReturnType<ClerkProcedures<TContext, TMeta, TErrorShape>['authorize']>;
    },
  };
}
