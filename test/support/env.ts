import type { TestIssuer } from 'clerk-api-auth/testing';

/**
 * Env for a reference server that verifies `issuer`'s tokens, configured as a production deployment is:
 * the public `issuer.env()` (networkless: `CLERK_JWT_KEY`, no secret key), `PATH`, and the authorized party
 * the suites' browsers claim.
 */
export function envFor(issuer: TestIssuer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...issuer.env(),
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    ...extra,
  };
}
