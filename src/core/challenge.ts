import type { ClerkApiUnavailableError, ForbiddenError, InvalidRequestError, PaymentRequiredError, UnauthenticatedError } from './errors.js';

/**
 * An error a guard can be denied with: the request is malformed (400), nobody valid is signed in
 * (401), the caller's plan lacks a billing feature or plan (402), the caller lacks something else
 * or a recent reverification (403), or Clerk could not be asked (503).
 *
 * @example
 * ```ts
 * const check = checkRequirement(result, { role: 'org:admin' });
 * const error: DenialError | undefined = check.ok ? undefined : check.error;
 * ```
 */
export type DenialError = InvalidRequestError | UnauthenticatedError | PaymentRequiredError | ForbiddenError | ClerkApiUnavailableError;

/**
 * The HTTP answer to a denial: its status and the headers that go with it (`WWW-Authenticate` per
 * RFC 6750, `Retry-After` when Clerk could not be asked).
 *
 * @example
 * ```ts
 * const { status, headers } = challengeOf(check.error);
 * return new Response(null, { status, headers });
 * ```
 */
export interface Challenge {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Which denial speaks for a response that has several (a tRPC batch, a GraphQL operation with several
 * denied fields). Lower wins: Clerk unreachable (503, retry) over a malformed credential (400, fix the
 * request) over "who are you?" (401, refresh and retry) over "you may not" (403: only an
 * administrator can change it) over "your plan lacks it" (402: payment can) over "verify again"
 * (403 with Clerk's reverification hint: the user can, at once). Past 401 the rule is the one
 * `checkRequirement` applies within a requirement: the answer names first what the caller cannot fix
 * alone, so a client is never invited to pay or reverify for a response that would still be denied.
 */
const RANK: Readonly<Record<DenialError['code'], number>> = {
  CLERK_API_UNAVAILABLE: 0,
  INVALID_REQUEST: 1,
  UNAUTHENTICATED: 2,
  FORBIDDEN: 3,
  PAYMENT_REQUIRED: 4,
};

/** A 403 whose only missing part is a recent reverification (it carries Clerk's hint). */
const REVERIFICATION_RANK = 5;

/**
 * The precedence of a denial among others (lower speaks first): 503 > 400 > 401 > 403 > 402 > 403
 * with a reverification hint. Errors are told apart by their stable `code` (and a 403's
 * `clerkError`), never `instanceof`: a `ClerkAuth` from the CommonJS build and an integration from
 * the ESM build (or the reverse) must answer alike.
 *
 * @internal
 */
export function denialRank(error: DenialError): number {
  if (error.code === 'FORBIDDEN' && (error as ForbiddenError).clerkError !== undefined) return REVERIFICATION_RANK;
  return RANK[error.code] ?? RANK.FORBIDDEN;
}

/** The denial that speaks for a response, or `undefined` for none. @internal */
export function strongestDenial(errors: Iterable<DenialError>): DenialError | undefined {
  let best: DenialError | undefined;
  for (const error of errors) if (best === undefined || denialRank(error) < denialRank(best)) best = error;
  return best;
}

/**
 * The status and headers of a response denied for `errors` (one error, or all the denials of one
 * response): the status of the strongest (see the precedence above); `WWW-Authenticate` from the
 * strongest denial that carries a challenge (400 / 401 / 402 / 403); `Retry-After` when any is a 503. The one mapping every integration
 * uses; use it in a handler of your own.
 *
 * @example
 * ```ts
 * import { challengeOf, createClerkAuth } from 'clerk-api-auth';
 *
 * const clerkAuth = createClerkAuth();
 * export async function handler(request: Request): Promise<Response> {
 *   const check = clerkAuth.check(await clerkAuth.authenticate(request), { role: 'org:admin' });
 *   if (!check.ok) {
 *     const { status, headers } = challengeOf(check.error);
 *     return Response.json({ code: check.error.code, message: check.error.message }, { status, headers });
 *   }
 *   return Response.json({ ok: true });
 * }
 * ```
 */
export function challengeOf(errors: DenialError | Iterable<DenialError>): Challenge {
  const list: Iterable<DenialError> = isDenial(errors) ? [errors] : errors;
  let status = 0;
  let rank = Number.POSITIVE_INFINITY;
  let challengeRank = Number.POSITIVE_INFINITY;
  let wwwAuthenticate: string | undefined;
  let retryAfter: number | undefined;
  for (const error of list) {
    const r = denialRank(error);
    if (r < rank) {
      rank = r;
      status = error.status;
    }
    if (error.code === 'CLERK_API_UNAVAILABLE') {
      const seconds = error.retryAfterSeconds;
      retryAfter = Math.max(retryAfter ?? 0, typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
    } else if (r < challengeRank && typeof error.wwwAuthenticate === 'string') {
      challengeRank = r;
      wwwAuthenticate = error.wwwAuthenticate;
    }
  }
  const headers: Record<string, string> = {};
  if (wwwAuthenticate !== undefined) headers['WWW-Authenticate'] = wwwAuthenticate;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  return { status, headers };
}

function isDenial(value: DenialError | Iterable<DenialError>): value is DenialError {
  return typeof (value as DenialError).code === 'string';
}

/**
 * The denials of one response as they arise (the calls of a tRPC batch fail one by one): `add`
 * returns the challenge of everything added so far, so a transport that writes headers early writes
 * the right ones, and a 401 challenge is never overwritten by a later 403.
 *
 * @internal
 */
export class ResponseChallenge {
  private readonly denials: DenialError[] = [];
  private current: Challenge | null = null;

  /** Records a denial; returns the response's challenge now. */
  add(error: DenialError): Challenge {
    this.denials.push(error);
    this.current = challengeOf(this.denials);
    return this.current;
  }

  /** The challenge so far, or `null` when nothing was denied. */
  get challenge(): Challenge | null {
    return this.current;
  }
}
