import { TRPCError } from '@trpc/server';
import type { ClerkApiUnavailableError, ClerkAuthError, ForbiddenError, UnauthenticatedError } from '../core/index.js';
import type { ResponseSink } from './state.js';

/** A core error a guard can fail with. @internal */
export type GuardError = UnauthenticatedError | ForbiddenError | ClerkApiUnavailableError;

/**
 * Turns a core error into the `TRPCError` the client gets, and sets the response headers that go
 * with it where the transport exposes them:
 * - `UnauthenticatedError` → `UNAUTHORIZED` (401) + `WWW-Authenticate: Bearer …` (RFC 6750);
 * - `ForbiddenError` → `FORBIDDEN` (403) + `WWW-Authenticate: Bearer error="insufficient_scope"`,
 *   unless a 401 challenge is already set (a batch answers one header for many calls);
 * - `ClerkApiUnavailableError` → `SERVICE_UNAVAILABLE` (503) + `Retry-After`: the token could not be
 *   checked, which is not the caller's fault, so they are told to retry rather than to sign in again.
 *
 * The core error is the `cause`; its message (which never contains a token) is the message.
 *
 * @internal
 */
export function toTRPCError(error: GuardError, sink: ResponseSink | null): TRPCError {
  // Discriminated by the stable `code`, not `instanceof`: the error may come from another copy of
  // the core (a `ClerkAuth` built by the CJS build, guards running from the ESM build).
  switch (error.code) {
    case 'UNAUTHENTICATED': {
      if (sink) {
        sink.set('WWW-Authenticate', (error as UnauthenticatedError).wwwAuthenticate);
        sink.challenge = 'invalid_token';
        sink.status = 401;
      }
      return new TRPCError({ code: 'UNAUTHORIZED', message: error.message, cause: error });
    }
    case 'FORBIDDEN': {
      if (sink && sink.challenge === 'none') {
        sink.set('WWW-Authenticate', (error as ForbiddenError).wwwAuthenticate);
        sink.challenge = 'insufficient_scope';
        sink.status = 403;
      }
      return new TRPCError({ code: 'FORBIDDEN', message: error.message, cause: error });
    }
    default: {
      if (sink) {
        sink.set('Retry-After', String((error as ClerkApiUnavailableError).retryAfterSeconds ?? 1));
        sink.status ??= 503;
      }
      return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: error.message, cause: error });
    }
  }
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
  if (error.code !== 'INTERNAL_SERVER_ERROR' || !(cause instanceof Error)) return error;
  const code = (cause as Partial<ClerkAuthError>).code;
  if (code === 'CLERK_SECRET_KEY_REQUIRED') return new TRPCError({ code: 'NOT_IMPLEMENTED', message: cause.message, cause });
  // `ctx.clerk` timed out: the Backend API is slow or down; the caller may retry.
  if (code === 'CLERK_API_UNAVAILABLE') return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: cause.message, cause });
  return error;
}
