import type { ClerkAuthObject } from '../core/internal.js';
import { CLERK_STATE, type ContextLike } from './state.js';

/**
 * Who a request's guards admitted, for an access log or metrics: the auth object the last guard
 * that ran admitted — a machine's (M2M, API key, OAuth) behind `machineProcedure` or
 * `authorize({ token })`, the session behind `protectedProcedure` — else the context's session view
 * `ctx.auth`. A guard puts what it admitted in the `ctx.auth` of the procedures after it; this reads
 * it from the context `createContext` returned, once the calls have run (in `responseMeta`, or
 * when the response is finished). Nothing is verified here.
 *
 * @param ctx - A context from `createClerkContext` (or one spreading it).
 *
 * @example An access log line that names the user or the machine
 * ```ts
 * import { admittedAuth } from 'clerk-api-auth/trpc';
 *
 * const auth = admittedAuth(ctx);
 * const who = auth.tokenType === 'm2m_token' ? auth.machineId : auth.tokenType === 'api_key' ? auth.subject : (auth.userId ?? 'anonymous');
 * console.log(`GET /trpc/machine.ping 200 ${who}`);
 * ```
 */
export function admittedAuth(ctx: { auth: ClerkAuthObject }): ClerkAuthObject {
  return (ctx as ContextLike)[CLERK_STATE]?.admittedLast ?? ctx.auth;
}
