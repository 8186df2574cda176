/** How the access logs name a caller: the user id, the machine's id, or `anonymous`. Never a token. */
import type { ClerkAuthObject } from 'clerk-api-auth';

export function callerName(auth: ClerkAuthObject | undefined): string {
  if (auth === undefined || !auth.isAuthenticated) return 'anonymous';
  switch (auth.tokenType) {
    case 'session_token':
      return auth.userId;
    case 'm2m_token':
      return auth.machineId;
    case 'api_key':
      return auth.subject;
    case 'oauth_token':
      return auth.userId;
    default:
      return 'anonymous';
  }
}
