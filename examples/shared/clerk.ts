/**
 * How the reference servers get their Clerk configuration: from the environment only, exactly as a
 * production server would. With no Clerk key at all (and not in production) they fall back, loudly,
 * to an offline dev issuer with a loopback stand-in for Clerk's Backend API.
 *
 * `REDIS_URL` set: every server shares one store in Redis (or Valkey) with every other instance using
 * it — verified opaque machine tokens (`ak_`, `mt_`, `oat_`) for 10 s, rejected ones for 10 s, and
 * webhook idempotency — so N instances receiving one API key make one Backend API verification
 * between them. Unset: each process keeps its own in memory. A Redis that is down or goes away only
 * means asking Clerk directly; it never makes a request succeed that should fail.
 */
import { createClerkAuth, type ClerkAuth, type ClerkAuthStore } from 'clerk-api-auth';
import { createRedisStore, type RedisStore } from 'clerk-api-auth/redis';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

/** Users the dev Backend API stand-in knows. */
export const DEV_USERS = [
  { id: 'user_alice', email: 'alice@example.com', firstName: 'Alice' },
  { id: 'user_bob', email: 'bob@example.com', firstName: 'Bob' },
];

export interface ClerkSetup {
  clerkAuth: ClerkAuth;
  /** The Redis store shared with every instance using `REDIS_URL`; absent without it (each process keeps its own, in memory). */
  store?: ClerkAuthStore;
  /** Present only in dev-issuer mode. */
  dev?: { issuer: TestIssuer; api: FakeClerkApi };
  close(): Promise<void>;
}

/** The shared store named by `REDIS_URL`, if any (connecting in the background: a Redis not up yet is not an error). */
function sharedStore(env: NodeJS.ProcessEnv, name: string): RedisStore | undefined {
  const url = env.REDIS_URL?.trim();
  if (!url) return undefined;
  const store = createRedisStore({ url });
  // Never print the URL: it may carry a password.
  console.log(`${name}: sharing machine-token verifications and webhook idempotency through REDIS_URL.`);
  return store;
}

/** Options the servers share: Clerk's default 5 s skew, keys and parties from the environment, the store from REDIS_URL. */
export async function loadClerk(env: NodeJS.ProcessEnv = process.env, name = 'server'): Promise<ClerkSetup> {
  const hasKey = Boolean(env.CLERK_SECRET_KEY?.trim() || env.CLERK_JWT_KEY?.trim());
  if (hasKey) {
    // Everything (CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES,
    // CLERK_API_URL) is read from the environment by createClerkAuth itself.
    const store = sharedStore(env, name);
    let clerkAuth: ClerkAuth;
    try {
      clerkAuth = createClerkAuth({ env, ...(store && { store }) });
    } catch (error) {
      await store?.close();
      throw error;
    }
    return { clerkAuth, ...(store && { store }), close: async () => store?.close() };
  }
  if (env.NODE_ENV === 'production') {
    throw new Error(
      `${name}: no Clerk key configured and NODE_ENV=production. Set CLERK_SECRET_KEY and/or CLERK_JWT_KEY ` +
        '(optionally CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES, CLERK_API_URL). The offline dev issuer is never used in production.',
    );
  }
  const issuer = await createTestIssuer();
  const api = await startFakeClerkApi({ issuer, users: DEV_USERS });
  const store = sharedStore(env, name);
  const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, authorizedParties: ['http://localhost:3000'], ...(store && { store }) });
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
  return {
    clerkAuth,
    ...(store && { store }),
    dev: { issuer, api },
    close: async () => {
      await api.close();
      await store?.close();
    },
  };
}
