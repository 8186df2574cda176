import type { TestIssuer } from 'clerk-api-auth/testing';

/** Env for a reference server that verifies `issuer`'s tokens, configured as a production deployment is. */
export function envFor(issuer: TestIssuer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    CLERK_TELEMETRY_DISABLED: '1',
    CLERK_JWT_KEY: issuer.jwtKey,
    CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
    ...extra,
  };
}
