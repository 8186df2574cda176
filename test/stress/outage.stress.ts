/**
 * The reference servers as deployed (env only, so the default `apiTimeoutMs` of 5 s) against a Backend
 * API that answers too late: every guarded call still answers, 503 + Retry-After, before the client's
 * bound, including 100 simultaneous cold requests per server, which share one JWKS attempt; once the
 * API is fast again, calls succeed. (The quick version, with a configured 300 ms timeout, runs in
 * `npm test`: test/security/clerk-api-outage.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { cleanEnv, graphqlPost, json, startReferenceServers, trpcWhoami, type GraphQLBody, type RawResponse, type Servers, type TrpcErrorBody } from '../security/helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let servers: Servers;
let alice = '';
const bearer = (token: string): Array<[string, string]> => [['authorization', `Bearer ${token}`]];
/** Longer than the default 5 s apiTimeoutMs, shorter than the API's delay. */
const CLIENT_BOUND_MS = 7000;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  servers = await startReferenceServers(cleanEnv({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }));
  alice = await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: 600 });
});

afterAll(async () => {
  await servers?.close();
  await api?.close();
});

function expectRetryLater(response: RawResponse, transport: 'trpc' | 'graphql'): void {
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('1');
  if (transport === 'trpc') expect(json<TrpcErrorBody>(response).error?.data?.code).toBe('SERVICE_UNAVAILABLE');
  else expect(json<GraphQLBody>(response).errors?.[0]?.extensions?.code).toBe('CLERK_API_UNAVAILABLE');
}

describe('a Backend API slower than the default apiTimeoutMs (5 s), through both reference servers', () => {
  it('100 simultaneous cold requests per server answer 503 + Retry-After within the bound, after one JWKS attempt each; then they succeed', async () => {
    api.setFault({ mode: 'none', delayMs: 9000 });
    const users = Array.from({ length: 100 }, (_, i) => `user_slow_${i}`);
    const tokens = await Promise.all(users.map((userId) => issuer.sessionToken({ userId, expiresInSeconds: 600 })));
    const [trpc, graphql] = await Promise.all([
      Promise.all(tokens.map((token) => trpcWhoami(servers.trpc.url, bearer(token), CLIENT_BOUND_MS))),
      Promise.all(tokens.map((token) => graphqlPost(servers.graphql.url, '{ notes { authorId } }', bearer(token), CLIENT_BOUND_MS))),
    ]);
    for (const response of trpc) expectRetryLater(response, 'trpc');
    for (const response of graphql) expectRetryLater(response, 'graphql');
    expect(api.requestCount).toBe(2);

    api.setFault({ mode: 'none' });
    // After the 1 s failure cooldown the keys are fetched again; bounded retries until then.
    for (const [transport, send] of [
      ['trpc', (token: string) => trpcWhoami(servers.trpc.url, bearer(token), CLIENT_BOUND_MS)],
      ['graphql', (token: string) => graphqlPost(servers.graphql.url, '{ notes { authorId } }', bearer(token), CLIENT_BOUND_MS)],
    ] as const) {
      let response = await send(alice);
      for (let attempt = 0; attempt < 50 && response.status !== 200; attempt++) {
        expectRetryLater(response, transport);
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await send(alice);
      }
      expect(response.status, transport).toBe(200);
    }
    const after = await Promise.all(tokens.map((token) => trpcWhoami(servers.trpc.url, bearer(token))));
    after.forEach((response, i) => expect(json<{ result: { data: { userId: string } } }>(response).result.data.userId).toBe(users[i]));
  }, 60_000);
});
