import type { TRPCDefaultErrorShape, TRPCError } from '@trpc/server';
import { isClerkAuthError, type ForbiddenError, type MissingEntitlements, type PaymentRequiredError, type ReverificationHint } from '../core/internal.js';

/**
 * What `clerkErrorFormatter` adds to an error's `data` (the client reads it as `error.data` of a
 * `TRPCClientError`):
 *
 * - `clerk_error`: Clerk's reverification hint, on a `FORBIDDEN` whose only missing part is a recent
 *   reverification (`authorize({ reverification: 'strict' })`). It is what Clerk's
 *   `useReverification` looks for; `clerkReverification` from `clerk-api-auth/client` hands it over.
 * - `missing`: on `PAYMENT_REQUIRED`, the billing features and plans the caller lacks.
 *
 * @example
 * ```ts
 * import { isTRPCClientError } from '@trpc/client';
 * if (isTRPCClientError<AppRouter>(error) && error.data?.missing?.feature) showUpgrade(error.data.missing.feature);
 * ```
 */
export interface ClerkErrorData {
  /** Clerk's reverification hint body (`{ type: 'forbidden', reason: 'reverification-error', metadata: { reverification } }`). */
  clerk_error?: ReverificationHint['clerk_error'];
  /** For `PAYMENT_REQUIRED`: the features and plans the requirement asked for that the caller lacks. */
  missing?: MissingEntitlements;
}

/**
 * An error shape with `ClerkErrorData` in its `data`.
 *
 * @example
 * ```ts
 * type Shape = ClerkErrorShape; // TRPCDefaultErrorShape & { data: … & ClerkErrorData }
 * ```
 */
export type ClerkErrorShape<TShape extends TRPCDefaultErrorShape = TRPCDefaultErrorShape> = TShape & { data: TShape['data'] & ClerkErrorData };

/**
 * The `errorFormatter` that puts what a client needs to act on a denial into the error's `data`:
 * Clerk's reverification hint (`data.clerk_error`) when only a recent reverification is missing, so
 * Clerk's `useReverification` can prompt and retry, and the missing billing features or plans
 * (`data.missing`) on `PAYMENT_REQUIRED`. tRPC's own `data` (`code`, `httpStatus`, `path`) is kept;
 * every other error passes through untouched. To combine it with your own formatter, call it on the
 * shape yours returns.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server';
 * import { clerkErrorFormatter, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
 *
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ errorFormatter: clerkErrorFormatter });
 * // with a formatter of your own:
 * const u = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({
 *   errorFormatter: (opts) => clerkErrorFormatter({ ...opts, shape: { ...opts.shape, data: { ...opts.shape.data, requestId: 'r1' } } }),
 * });
 * ```
 */
export function clerkErrorFormatter<TShape extends TRPCDefaultErrorShape>(opts: { shape: TShape; error: TRPCError }): ClerkErrorShape<TShape> {
  const { shape, error } = opts;
  const cause: unknown = error.cause;
  // By code, never instanceof: the error may come from the other build of the package.
  if (!isClerkAuthError(cause)) return shape as ClerkErrorShape<TShape>;
  if (cause.code === 'FORBIDDEN') {
    const clerkError = (cause as ForbiddenError).clerkError;
    if (clerkError !== undefined) return { ...shape, data: { ...shape.data, clerk_error: clerkError } };
  } else if (cause.code === 'PAYMENT_REQUIRED') {
    return { ...shape, data: { ...shape.data, missing: (cause as PaymentRequiredError).missing } };
  }
  return shape as ClerkErrorShape<TShape>;
}
