/**
 * How the reference servers get their Clerk configuration: from the environment only, exactly as a
 * production server would. With no Clerk key at all (and not in production) they fall back, loudly,
 * to an offline dev issuer with a loopback stand-in for Clerk's Backend API.
 */
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

/** Users the dev Backend API stand-in knows. */
export const DEV_USERS = [
  { id: 'user_alice', email: 'alice@example.com', firstName: 'Alice' },
  { id: 'user_bob', email: 'bob@example.com', firstName: 'Bob' },
];

export interface ClerkSetup {
  clerkAuth: ClerkAuth;
  /** Present only in dev-issuer mode. */
  dev?: { issuer: TestIssuer; api: FakeClerkApi };
  close(): Promise<void>;
}

/** Options the servers share: Clerk's default 5 s skew, keys and parties from the environment. */
export async function loadClerk(env: NodeJS.ProcessEnv = process.env, name = 'server'): Promise<ClerkSetup> {
  const hasKey = Boolean(env.CLERK_SECRET_KEY?.trim() || env.CLERK_JWT_KEY?.trim());
  if (hasKey) {
    // Everything (CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES,
    // CLERK_API_URL) is read from the environment by createClerkAuth itself.
    return { clerkAuth: createClerkAuth({ env }), close: async () => {} };
  }
  if (env.NODE_ENV === 'production') {
    throw new Error(
      `${name}: no Clerk key configured and NODE_ENV=production. Set CLERK_SECRET_KEY and/or CLERK_JWT_KEY ` +
        '(optionally CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES, CLERK_API_URL). The offline dev issuer is never used in production.',
    );
  }
  const issuer = await createTestIssuer();
  const api = await startFakeClerkApi({ issuer, users: DEV_USERS });
  const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, authorizedParties: ['http://localhost:3000'] });
  const sample = await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: 3600 });
  console.warn(
    [
      '',
      `!!! ${name}: no CLERK_SECRET_KEY or CLERK_JWT_KEY set: using the OFFLINE DEV ISSUER (never in production).`,
      '!!! Tokens below are signed by a throwaway local key and are accepted by this process only.',
      `!!! Sample session token for user_alice (valid 1 hour):`,
      sample,
      '',
    ].join('\n'),
  );
  return { clerkAuth, dev: { issuer, api }, close: () => api.close() };
}
