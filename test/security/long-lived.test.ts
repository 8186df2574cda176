/**
 * Long-lived connections end when their token expires: what test/trpc and test/graphql do not
 * already cover. Covered there: tRPC SSE on the reference server (test/trpc/example-app.test.ts),
 * tRPC SSE with connectionParams and tRPC WebSocket/wsLink (test/trpc/adapters.test.ts), GraphQL SSE
 * on the reference server (test/graphql/reference-app.test.ts). Here: graphql-ws on the reference
 * GraphQL server, idle and while events flow, and that nothing is delivered after the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { wsClient, type GraphQLResponse } from '../graphql/helpers.js';
import { cleanEnv, until } from './helpers.js';

const WRITER = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;
let issuer: TestIssuer;
let server: GraphQLServer;

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = await startGraphQLServer({ port: 0, env: cleanEnv({ CLERK_JWT_KEY: issuer.jwtKey, CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000' }), log: () => {} });
});

afterAll(() => server?.close());

interface Watched {
  results: Array<GraphQLResponse['body']>;
  ended: 'complete' | 'error' | null;
  error: unknown;
  dispose(): Promise<void>;
}

/** A graphql-ws subscription to the caller's new notes, recording everything it receives. */
function watch(token: string): Watched {
  const client = wsClient(server.url, { authorization: `Bearer ${token}` });
  const watched: Watched = { results: [], ended: null, error: undefined, dispose: async () => client.dispose() };
  client.subscribe(
    { query: 'subscription { noteAdded { text authorId } }' },
    {
      next: (value) => {
        watched.results.push(value as GraphQLResponse['body']);
      },
      error: (error) => {
        watched.error = error;
        watched.ended = 'error';
      },
      complete: () => {
        watched.ended ??= 'complete';
      },
    },
  );
  return watched;
}

/** The `extensions` of the error that ended a subscription, whether sent as a result or as an error message. */
function endingError(watched: Watched): Record<string, unknown> | undefined {
  const fromResult = watched.results.at(-1)?.errors?.[0]?.extensions;
  if (fromResult) return fromResult;
  const list = Array.isArray(watched.error) ? (watched.error as Array<{ extensions?: Record<string, unknown> }>) : [];
  return list[0]?.extensions;
}

/** The subscription ends with UNAUTHENTICATED token-expired, and a note created afterwards is not delivered. */
async function expectEndsAtExpiryThenSilent(watched: Watched): Promise<void> {
  await until(() => watched.ended !== null, 15_000, 'the subscription to end on expiry');
  expect(endingError(watched)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
  const delivered = watched.results.length;
  server.store.create('after expiry', 'user_writer');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(watched.results.length).toBe(delivered);
}

describe('graphql-ws subscriptions on the reference GraphQL server', () => {
  it('an idle subscription ends with UNAUTHENTICATED token-expired when its token expires, and nothing is delivered after', async () => {
    // Expired 3 s ago: inside Clerk's 5 s clock skew, so it verifies now and stops verifying about 2 s later.
    const shortLived = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
    const watched = watch(shortLived);
    try {
      await expectEndsAtExpiryThenSilent(watched);
      expect(watched.results.some((result) => (result.data as { noteAdded?: unknown } | undefined)?.noteAdded)).toBe(false);
    } finally {
      await watched.dispose();
    }
  });

  it('delivers the caller’s notes while the token is valid, then ends at expiry', async () => {
    // Issued 60 s ago for 59 s: expired 1 s ago, so inside the 5 s clock skew for about 4 more seconds.
    const token = await issuer.sessionToken({ ...WRITER, issuedAtOffsetSeconds: -60, notBeforeOffsetSeconds: -65, expiresInSeconds: 59 });
    const watched = watch(token);
    try {
      // Create until one note arrives (the subscription may not be registered on the first try).
      for (let i = 0; i < 30 && watched.results.length === 0 && watched.ended === null; i++) {
        server.store.create('someone else', 'user_other');
        server.store.create(`live ${i}`, 'user_writer');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(watched.results.length).toBeGreaterThan(0);
      expect(watched.results.every((result) => (result.data as { noteAdded: { authorId: string } }).noteAdded.authorId === 'user_writer')).toBe(true);
      await expectEndsAtExpiryThenSilent(watched);
    } finally {
      await watched.dispose();
    }
  }, 30_000);
});
