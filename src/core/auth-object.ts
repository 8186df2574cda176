import type { ClerkClient } from '@clerk/backend';
import type { SignedInAuthObject } from '@clerk/backend/internal';
import { createCheckAuthorization } from '@clerk/shared/authorization';
import { __experimental_JWTPayloadToAuthObjectProperties as claimsToAuthProperties } from '@clerk/shared/jwtPayloadParser';

type Claims = Parameters<typeof claimsToAuthProperties>[0];
type GetTokenOptions = Parameters<SignedInAuthObject['getToken']>[0];

/**
 * Clerk's signed-in auth object for verified session claims, built from Clerk's own claim parser and
 * `has()` factory exactly as `@clerk/backend`'s `signedInAuthObject` does, but sharing the one Backend
 * API client (for `getToken({ template })`) instead of constructing a new client per request: that
 * client is most of the object's cost in CPU and, in the verified-token cache, in memory.
 *
 * @internal
 */
export function sessionAuthObject(token: string, claims: Record<string, unknown>, clerk: ClerkClient): SignedInAuthObject {
  const sessionClaims = claims as Claims;
  const { actor, sessionId, sessionStatus, userId, orgId, orgRole, orgSlug, orgPermissions, factorVerificationAge } = claimsToAuthProperties(sessionClaims);
  const getToken = async (options: GetTokenOptions = {}): Promise<string | null> => {
    if (!sessionId) return null;
    if (options.template || options.expiresInSeconds !== undefined) {
      return (await clerk.sessions.getToken(sessionId, options.template || '', options.expiresInSeconds)).jwt;
    }
    return token;
  };
  return {
    tokenType: 'session_token',
    actor,
    sessionClaims,
    sessionId,
    sessionStatus,
    userId,
    orgId,
    orgRole,
    orgSlug,
    orgPermissions,
    factorVerificationAge,
    getToken,
    has: createCheckAuthorization({
      orgId,
      orgRole,
      orgPermissions,
      userId,
      factorVerificationAge,
      features: (sessionClaims.fea as string | undefined) || '',
      plans: (sessionClaims.pla as string | undefined) || '',
    }),
    debug: () => ({}),
    isAuthenticated: true,
  } as SignedInAuthObject;
}
