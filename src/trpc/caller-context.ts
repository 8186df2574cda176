import {
  checkRequirement,
  requestAuth,
  resolveClerkAuth,
  secretKeyRequiredClient,
  settledRequestAuth,
  SignedOutReason,
  type ClerkAuthObject,
  type ClerkAuthSource,
  type ClerkClient,
} from '../core/internal.js';
import { buildContext, type ClerkContext } from './context.js';

/**
 * Builds a tRPC context from a bare token, verified exactly as a request's would be: for
 * `createCaller` in unit tests, server-side rendering, jobs and scripts. A bad or missing token gives
 * a signed-out context (guards then throw `UNAUTHORIZED`), never an exception.
 *
 * @param token - A session or machine token, with or without the `Bearer ` prefix; `null` for none.
 * @param source - A `ClerkAuth` (e.g. `createContext.clerkAuth`), or options for `createClerkAuth`.
 *
 * @example Unit-testing a protected procedure
 * ```ts
 * import { createTestIssuer } from 'clerk-api-auth/testing';
 * import { clerkContextFromToken } from 'clerk-api-auth/trpc';
 *
 * const issuer = await createTestIssuer();
 * const caller = appRouter.createCaller(await clerkContextFromToken(await issuer.sessionToken({ userId: 'user_1' }), { jwtKey: issuer.jwtKey }));
 * expect(await caller.whoami()).toMatchObject({ userId: 'user_1' });
 * ```
 */
export async function clerkContextFromToken(token: string | null | undefined, source?: ClerkAuthSource): Promise<ClerkContext> {
  const { clerkAuth } = resolveClerkAuth(source, [], 'clerkContextFromToken');
  const request = requestAuth(clerkAuth, token ?? null);
  const session = await request.session();
  return buildContext(clerkAuth, request, session, null);
}

/**
 * Options of `clerkContextFromAuth`.
 *
 * @example
 * ```ts
 * clerkContextFromAuth(auth, { clerk: clerkClient });
 * ```
 */
export interface ClerkContextFromAuthOptions {
  /** The Backend API client for `ctx.clerk`. Default: one that throws `ClerkSecretKeyRequiredError` on use. */
  clerk?: ClerkClient;
  /** The reason a signed-out `auth` is signed out. Default `'token-missing'`. */
  signedOutReason?: SignedOutReason | null;
}

/**
 * Builds a tRPC context from an auth object you already trust — one Clerk's own middleware made
 * (`getAuth(req, { acceptsToken: 'any' })` in `@clerk/express`, `auth()` in Next.js), or one from
 * `clerkAuth.authenticate`. No verification happens here; guards check it like any other.
 *
 * @example Server-side call in Next.js
 * ```ts
 * import { auth } from '@clerk/nextjs/server';
 * const caller = appRouter.createCaller(clerkContextFromAuth(await auth(), { clerk: await clerkClient() }));
 * ```
 */
export function clerkContextFromAuth(auth: ClerkAuthObject, options: ClerkContextFromAuthOptions = {}): ClerkContext {
  const reason = auth.isAuthenticated ? null : (options.signedOutReason ?? SignedOutReason.TokenMissing);
  const skew = 5000; // Clerk's default clock skew
  const source = {
    check: checkRequirement,
    clerk: options.clerk ?? secretKeyRequiredClient(' (pass `clerk` to clerkContextFromAuth)'),
    config: { clockSkewInMs: skew },
  };
  const request = settledRequestAuth({ auth, reason }, skew);
  // A settled request auth answers synchronously: nothing is verified here.
  const session = request.session() as Awaited<ReturnType<typeof request.session>>;
  return buildContext(source, request, session, null);
}
