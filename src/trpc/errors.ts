import { TRPCError } from '@trpc/server';
import { isClerkAuthError, type DenialError } from '../core/internal.js';
import type { ResponseSink } from './state.js';

/** tRPC's code for each denial; tRPC turns it into the HTTP status (a mixed batch answers 207). */
const TRPC_CODE = {
  INVALID_REQUEST: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  // A tRPC v11 code (TRPC_ERROR_CODES_BY_KEY, -32002); tRPC answers it with HTTP 402.
  PAYMENT_REQUIRED: 'PAYMENT_REQUIRED',
  FORBIDDEN: 'FORBIDDEN',
  CLERK_API_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const satisfies Record<DenialError['code'], TRPCError['code']>;

/**
 * Turns a core denial into the `TRPCError` the client gets, and writes the response headers of the
 * request's challenge so far where the transport exposes them: the core's `challengeOf` over every
 * denial of the request (a batch answers one set of headers for many calls), so a 401's
 * `WWW-Authenticate` is never replaced by a later 403's, and a 503 adds `Retry-After`.
 *
 * - `InvalidRequestError` → `BAD_REQUEST` (400, `invalid_request`): several credentials or a malformed one;
 * - `UnauthenticatedError` → `UNAUTHORIZED` (401, `Bearer` / `invalid_token`);
 * - `PaymentRequiredError` → `PAYMENT_REQUIRED` (402, `insufficient_scope`): a billing feature or plan;
 * - `ForbiddenError` → `FORBIDDEN` (403, `insufficient_scope`), also when only a recent
 *   reverification is missing (then `clerkErrorFormatter` puts Clerk's hint in `data.clerk_error`);
 * - `ClerkApiUnavailableError` → `SERVICE_UNAVAILABLE` (503, `Retry-After`).
 *
 * The core error is the `cause` (recognised by its `code`: it may come from another build of the
 * package); its message, which never contains a token, is the message.
 *
 * @internal
 */
export function toTRPCError(error: DenialError, sink: ResponseSink | null): TRPCError {
  if (sink !== null) {
    const { headers } = sink.challenge.add(error);
    for (const name in headers) sink.set(name, headers[name] as string);
  }
  return new TRPCError({ code: TRPC_CODE[error.code] ?? 'FORBIDDEN', message: error.message, cause: error });
}

/**
 * A resolver used `ctx.clerk` in networkless mode (`CLERK_JWT_KEY` only). That is a deployment
 * choice, not a bug in the request: answer `NOT_IMPLEMENTED` (501) with the core's message, which
 * names `CLERK_SECRET_KEY`, instead of a 500 with a stack trace. A `ctx.clerk` call that timed out
 * (`ClerkApiUnavailableError`) answers `SERVICE_UNAVAILABLE` (503).
 *
 * @internal
 */
export function mapSecretKeyRequired(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (error.code !== 'INTERNAL_SERVER_ERROR' || !isClerkAuthError(cause)) return error;
  if (cause.code === 'CLERK_SECRET_KEY_REQUIRED') return new TRPCError({ code: 'NOT_IMPLEMENTED', message: cause.message, cause });
  // `ctx.clerk` timed out: the Backend API is slow or down; the caller may retry.
  if (cause.code === 'CLERK_API_UNAVAILABLE') return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: cause.message, cause });
  return error;
}
