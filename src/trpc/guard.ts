import type { TRPCError } from '@trpc/server';
import {
  expiryOf,
  SignedOutReason,
  UnauthenticatedError,
  type AuthenticateResult,
  type AuthRequirement,
  type ClerkAuthObject,
} from '../core/internal.js';
import { mapSecretKeyRequired, toTRPCError } from './errors.js';
import { endAtDeadline } from './expiry.js';
import { checkedRequirement, storedRequirements } from './meta.js';
import { stateOf, type ContextLike, type ContextState } from './state.js';

/** The part of tRPC's middleware options a guard uses. @internal */
export interface GuardOptions {
  ctx: ContextLike;
  type: 'query' | 'mutation' | 'subscription';
  meta: unknown;
  next: {
    (): Promise<GuardResult>;
    (opts: { ctx: { auth: ClerkAuthObject; signedOutReason?: SignedOutReason } }): Promise<GuardResult>;
  };
}

/** tRPC's middleware result, as far as a guard reads it. @internal */
export type GuardResult = { ok: true; data: unknown; readonly marker: unknown } | { ok: false; error: TRPCError; readonly marker: unknown };

/**
 * Admits the request's credential for a requirement or throws the `TRPCError` to answer. The
 * credential is asked for as the requirement's token kinds see it — an opaque machine token is sent
 * to the Backend API only here, and only when its kind is accepted — and as it counts now: a
 * WebSocket context outlives the token it was opened with, so an expired one is signed out.
 *
 * @returns The result the requirement admitted (a session, or a machine for `token` kinds), at once
 * when the credential is already known (the common case: no promise, no tick); a denial throws.
 * @internal
 */
export function admit(state: ContextState, requirement: AuthRequirement): AuthenticateResult | Promise<AuthenticateResult> {
  const asked = state.request.accepting(requirement.token ?? 'session_token');
  return asked instanceof Promise ? asked.then((result) => checked(state, result, requirement)) : checked(state, asked, requirement);
}

function checked(state: ContextState, result: AuthenticateResult, requirement: AuthRequirement): AuthenticateResult {
  const check = state.check(result, requirement);
  if (!check.ok) throw toTRPCError(check.error, state.sink);
  return result;
}

function expired(state: ContextState): TRPCError {
  return toTRPCError(new UnauthenticatedError(SignedOutReason.TokenExpired), state.sink);
}

const NO_REQUIREMENTS: readonly AuthRequirement[] = [];

/**
 * The requirements a procedure's meta adds: those its `.meta({ auth })` calls stored (in order, all
 * must hold), and a plain `meta.auth` too — which only a call that bypassed the builders' types can
 * leave there, and which is enforced rather than ignored (a malformed one fails closed).
 *
 * @internal
 */
export function metaRequirements(meta: unknown): readonly AuthRequirement[] {
  const stored = storedRequirements(meta);
  const plain = meta !== null && typeof meta === 'object' ? (meta as { auth?: unknown }).auth : undefined;
  if (plain === undefined) return stored;
  return [...stored, checkedRequirement(plain, 'meta.auth')];
}

/**
 * One guard middleware:
 * - `requirement` (the builder's own: `protectedProcedure`, `machineProcedure`, `authorize()`) is
 *   enforced and the admitted auth object becomes `ctx.auth`, which is what the types promise;
 * - with `withMeta`, the requirements of the procedure's `.meta({ auth })` calls are enforced too,
 *   each of them (they add to the builder's requirement and to each other, never replace them, and
 *   do not change `ctx.auth`'s type);
 * - a subscription admitted by a guard ends with `UNAUTHORIZED` when its credential expires, and
 *   an unguarded call on a context whose credential expired sees it signed out (`token-expired`);
 * - a resolver's use of `ctx.clerk` without a secret key answers `NOT_IMPLEMENTED`, not a 500.
 *
 * @internal
 */
export function guardMiddleware(requirement: AuthRequirement | null, withMeta: boolean) {
  return async function clerkGuard(opts: GuardOptions): Promise<GuardResult> {
    const { ctx } = opts;
    const state = stateOf(ctx);
    let admitted = requirement === null ? null : admit(state, requirement);
    if (admitted instanceof Promise) admitted = await admitted;
    const fromMeta = withMeta ? metaRequirements(opts.meta) : NO_REQUIREMENTS;
    let metaAdmitted: AuthenticateResult | null = null;
    for (const each of fromMeta) {
      const result = admit(state, each);
      metaAdmitted = result instanceof Promise ? await result : result;
    }
    const guard = admitted ?? metaAdmitted;
    if (guard !== null) state.admittedLast = guard.auth;

    let result: GuardResult;
    let session: AuthenticateResult | null;
    if (admitted !== null && admitted.auth !== ctx.auth) {
      state.admitted.push(admitted.auth);
      result = await opts.next({ ctx: { auth: admitted.auth } });
    } else if (guard === null && ctx.auth.isAuthenticated && (session = expiredSession(state)) !== null) {
      // A long-lived context (WebSocket) whose credential expired: unguarded procedures see it signed out.
      state.admitted.push(session.auth);
      result = await opts.next({ ctx: { auth: session.auth, signedOutReason: SignedOutReason.TokenExpired } });
    } else result = await opts.next();

    if (!result.ok) {
      const error = mapSecretKeyRequired(result.error);
      return error === result.error ? result : { ...result, error };
    }
    const deadline = guard === null ? undefined : expiryOf(guard, state.clockSkewInMs);
    if (opts.type === 'subscription' && deadline !== undefined) {
      return { ...result, data: endAtDeadline(result.data, deadline, () => expired(state)) };
    }
    return result;
  };
}

/** The signed-out session of a context whose credential expired since it was built, else `null`. */
function expiredSession(state: ContextState): AuthenticateResult | null {
  const session = state.request.session();
  return !(session instanceof Promise) && session.reason === SignedOutReason.TokenExpired ? session : null;
}
