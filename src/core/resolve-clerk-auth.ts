import { createClerkAuth, type ClerkAuth } from './create-clerk-auth.js';
import { ClerkAuthConfigError } from './errors.js';
import type { ClerkAuthOptions } from './types.js';

/**
 * What every integration entry point (`createClerkContext`, `useClerk`, `createClerkGraphQLContext`,
 * `clerkDirectiveTransformer`, ...) accepts: nothing (configuration from the `CLERK_*` environment), a
 * `ClerkAuth` from `createClerkAuth` (share one between tRPC and GraphQL), or options — Clerk's, plus
 * the integration's own `TOwn` — where `clerkAuth` may stand in for the Clerk ones.
 *
 * @example
 * ```ts
 * const a: ClerkAuthSource<{ rejectUnauthorized?: boolean }> = createClerkAuth();
 * const b: ClerkAuthSource<{ rejectUnauthorized?: boolean }> = { clerkAuth: a, rejectUnauthorized: true };
 * const c: ClerkAuthSource<{ rejectUnauthorized?: boolean }> = { authorizedParties: ['https://app.example.com'] };
 * ```
 */
export type ClerkAuthSource<TOwn extends object = object> = ClerkAuth | (ClerkAuthOptions & TOwn & { clerkAuth?: ClerkAuth });

/**
 * Whether a value is a `ClerkAuth` (from any build of this package) rather than options for one.
 *
 * @internal
 */
export function isClerkAuth(value: unknown): value is ClerkAuth {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClerkAuth).authenticate === 'function' &&
    typeof (value as ClerkAuth).check === 'function' &&
    typeof (value as ClerkAuth).config === 'object'
  );
}

/**
 * The one way integrations turn what they were given into a `ClerkAuth` and their own settings: an
 * instance is used as is; options build a new instance (environment fallbacks apply) after the
 * integration's own keys are taken out; `{ clerkAuth, ...own }` uses that instance, and refuses Clerk
 * options next to it (they would be silently ignored). The integrations choose token kinds per guard,
 * so a `ClerkAuth` whose own `acceptsToken` is not Clerk's default (`'session_token'`) would be
 * silently ignored too: it is refused. Throws `ClerkAuthConfigError` at startup.
 *
 * @param ownKeys - The integration's own option names, e.g. `['rejectUnauthorized']`.
 * @param where - The entry point's name, for messages.
 * @internal
 */
export function resolveClerkAuth<TOwn extends object>(
  given: ClerkAuthSource<TOwn> | undefined,
  ownKeys: readonly (keyof TOwn & string)[],
  where: string,
): { clerkAuth: ClerkAuth; own: Partial<TOwn> } {
  if (isClerkAuth(given)) return { clerkAuth: requireDefaultAcceptsToken(given, where), own: {} };
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new ClerkAuthConfigError(`${where}: pass a ClerkAuth from createClerkAuth(), or an options object; got ${typeof given}.`);
  }
  const options: Record<string, unknown> = { ...given };
  const own: Record<string, unknown> = {};
  for (const key of ownKeys) {
    if (options[key] !== undefined) own[key] = options[key];
    delete options[key];
  }
  const instance = options.clerkAuth;
  delete options.clerkAuth;
  if (instance !== undefined) {
    if (!isClerkAuth(instance)) throw new ClerkAuthConfigError(`${where}: \`clerkAuth\` must come from createClerkAuth().`);
    const extra = Object.keys(options).filter((key) => options[key] !== undefined);
    if (extra.length > 0) {
      throw new ClerkAuthConfigError(
        `${where}: pass either \`clerkAuth\` or Clerk options (${extra.join(', ')}), not both; configure those options on createClerkAuth() instead.`,
      );
    }
    return { clerkAuth: requireDefaultAcceptsToken(instance, where), own: own as Partial<TOwn> };
  }
  return { clerkAuth: requireDefaultAcceptsToken(createClerkAuth(options as ClerkAuthOptions), where), own: own as Partial<TOwn> };
}

function requireDefaultAcceptsToken(clerkAuth: ClerkAuth, where: string): ClerkAuth {
  const configured = (clerkAuth.config as Partial<ClerkAuth['config']>).acceptsToken;
  if (configured !== undefined && configured !== 'session_token') {
    throw new ClerkAuthConfigError(
      `${where}: acceptsToken ${JSON.stringify(configured)} is not read by the integrations, which choose token kinds per guard. ` +
        "Leave acceptsToken unset on createClerkAuth() and say where machine tokens count: machineProcedure or authorize({ token: [...] }) in tRPC, a rule's `token` in GraphQL.",
    );
  }
  return clerkAuth;
}
