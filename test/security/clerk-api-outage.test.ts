/**
 * A failing Clerk Backend API (the test issuer's fake API: down, slow, 500s, malformed JSON,
 * flapping), seen over HTTP through both reference servers.
 *
 * - `CLERK_JWT_KEY` only: whatever the API does, not one request reaches it.
 * - `CLERK_SECRET_KEY` only: a guarded call answers 503 + `Retry-After` while the keys cannot be
 *   fetched (never a hang, a 401 or a 500), public calls keep answering, and calls succeed once the
 *   API recovers; 100 simultaneous cold requests cause one JWKS fetch per server.
 *
 * The in-process behaviour of the JWKS resolver is covered by test/core/backend-api.test.ts; the
 * default 5 s `apiTimeoutMs` against a slow API runs in `npm run test:stress`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeApiFault, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startGraphQLServer } from '../../examples/graphql-yoga/server.js';
import { startTrpcServer } from '../../examples/trpc/server.js';
import {
  cleanEnv,
  graphqlPost,
  json,
  raw,
  startReferenceApp,
  startReferenceServers,
  trpcWhoami,
  until,
  type GraphQLBody,
  type RawResponse,
  type Servers,
  type TrpcErrorBody,
} from './helpers.js';

type Headers = Array<[string, string]>;

let issuer: TestIssuer;
let stranger: TestIssuer;
let api: FakeClerkApi;
let alice = '';
const running: Array<{ close(): Promise<void> }> = [];
const bearer = (token: string): Headers => [['authorization', `Bearer ${token}`]];
const FAULTS: FakeApiFault[] = [{ mode: 'down' }, { mode: 'error' }, { mode: 'malformed' }, { mode: 'flapping' }, { mode: 'none', delayMs: 2000 }];

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
  alice = await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: 600 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  api.setFault({ mode: 'none' });
  api.resetCounts();
});

afterAll(() => api?.close());

async function start(env: Record<string, string>): Promise<Servers> {
  const servers = await startReferenceServers(cleanEnv(env));
  running.push(servers);
  return servers;
}

const secretKeyOnly = (): Record<string, string> => ({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl });

function userIdOf(response: RawResponse): string | undefined {
  return response.status === 200 ? json<{ result: { data: { userId: string } } }>(response).result.data.userId : undefined;
}

/** 503 + Retry-After with the transport's code: the caller is told to retry, not to sign in again. */
function expectRetryLater(response: RawResponse, transport: 'trpc' | 'graphql', what: string): void {
  expect(response.status, `${what}: ${response.body.slice(0, 200)}`).toBe(503);
  expect(response.headers['retry-after'], what).toBe('1');
  expect(response.headers['www-authenticate'], what).toBeUndefined();
  if (transport === 'trpc') expect(json<TrpcErrorBody>(response).error?.data, what).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 });
  else {
    const body = json<GraphQLBody>(response);
    expect(body.data ?? null, what).toBeNull();
    expect(body.errors?.[0]?.extensions?.code, what).toBe('CLERK_API_UNAVAILABLE');
  }
}

/** Repeats a request (bounded) until it answers 200; every answer before that must be a retry-later 503. */
async function untilServed(send: () => Promise<RawResponse>, transport: 'trpc' | 'graphql', attempts = 100): Promise<RawResponse> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status === 200 || attempt >= attempts) return response;
    expectRetryLater(response, transport, `recovering (attempt ${attempt})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('CLERK_JWT_KEY only: no request ever reaches the Backend API', () => {
  it('whatever the API does, every kind of token is decided locally, and `me` says it needs CLERK_SECRET_KEY', async () => {
    const servers = await start({ CLERK_JWT_KEY: issuer.jwtKey, CLERK_API_URL: api.apiUrl });
    const expired = await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: -60 });
    const foreign = await stranger.sessionToken({ userId: 'user_alice' });
    const m2m = await issuer.m2mToken({ machineId: 'mch_1' });
    const apiKey = issuer.apiKey({ subject: 'user_alice' }).token;
    const opaqueM2m = issuer.opaqueM2mToken({ machineId: 'mch_2' }).token;
    for (const fault of [{ mode: 'none' } as FakeApiFault, ...FAULTS]) {
      api.setFault(fault);
      const what = `${fault.mode}${fault.delayMs ? ' (slow)' : ''}`;
      expect(userIdOf(await trpcWhoami(servers.trpc.url, bearer(alice))), what).toBe('user_alice');
      expect((await trpcWhoami(servers.trpc.url, bearer(expired))).status, what).toBe(401);
      expect((await trpcWhoami(servers.trpc.url, bearer(foreign))).status, what).toBe(401);
      expect((await raw(`${servers.trpc.url}/machine.ping`, { headers: bearer(m2m) })).status, what).toBe(200);
      const opaque = await raw(`${servers.trpc.url}/machine.ping`, { headers: bearer(opaqueM2m) });
      expect(opaque.status, what).toBe(401);
      expect(opaque.headers['www-authenticate'], what).toContain('secret-key-required');
      expect((await trpcWhoami(servers.trpc.url, bearer(apiKey))).status, what).toBe(401);
      expect((await raw(`${servers.trpc.url}/me`, { headers: bearer(alice) })).status, what).toBe(501);

      const notes = await graphqlPost(servers.graphql.url, '{ notes { authorId } }', bearer(alice));
      expect(notes.status, what).toBe(200);
      for (const token of [expired, foreign, m2m, apiKey, opaqueM2m]) {
        expect((await graphqlPost(servers.graphql.url, '{ notes { id } }', bearer(token))).status, what).toBe(401);
      }
      const me = json<GraphQLBody>(await graphqlPost(servers.graphql.url, '{ me { id } }', bearer(alice)));
      expect(me.errors?.[0]?.extensions?.code, what).toBe('CLERK_SECRET_KEY_REQUIRED');
    }
    expect(api.requestCount).toBe(0);
  });
});

describe('CLERK_SECRET_KEY only: keys from the Backend API', () => {
  it.each(['down', 'error', 'malformed'] as const)(
    'API %s while cold: guarded calls 503 + Retry-After, public calls answer, garbage is still 401; then it recovers',
    async (mode) => {
      api.setFault({ mode });
      const servers = await start(secretKeyOnly());
      expectRetryLater(await trpcWhoami(servers.trpc.url, bearer(alice)), 'trpc', `${mode} whoami`);
      expectRetryLater(await graphqlPost(servers.graphql.url, '{ health notes { id } }', bearer(alice)), 'graphql', `${mode} notes`);
      expectRetryLater(await raw(`${servers.trpc.url}/machine.ping`, { headers: bearer(issuer.opaqueM2mToken().token) }), 'trpc', `${mode} opaque machine token`);
      // Nothing that can be decided without the API waits for it.
      expect((await raw(`${servers.trpc.url}/health`, { headers: bearer(alice) })).status).toBe(200);
      expect(json<GraphQLBody>(await graphqlPost(servers.graphql.url, '{ health }', bearer(alice))).data).toEqual({ health: 'ok' });
      const garbage = await trpcWhoami(servers.trpc.url, bearer('garbage'));
      expect(garbage.status).toBe(401);
      expect(garbage.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="token-invalid"');
      expect((await trpcWhoami(servers.trpc.url, [])).status).toBe(401);
      // Within the failure cooldown the failing API is not asked again, however many requests come.
      const before = api.count('jwks');
      const burst = await Promise.all(Array.from({ length: 20 }, () => trpcWhoami(servers.trpc.url, bearer(alice))));
      for (const response of burst) expect([503, 200]).toContain(response.status);
      expect(api.count('jwks') - before).toBeLessThanOrEqual(1);

      api.setFault({ mode: 'none' });
      expect(userIdOf(await untilServed(() => trpcWhoami(servers.trpc.url, bearer(alice)), 'trpc'))).toBe('user_alice');
      const me = await untilServed(() => graphqlPost(servers.graphql.url, '{ me { id } }', bearer(alice)), 'graphql');
      expect(json<GraphQLBody>(me).data).toEqual({ me: { id: 'user_alice' } });
    },
  );

  it('a slow API is cut off at the configured apiTimeoutMs: 503, never a hang', async () => {
    api.setFault({ mode: 'none', delayMs: 5000 });
    const app = await startReferenceApp(createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 300 }));
    running.push(app);
    // The client gives up well before the API would answer: a server waiting on it fails the test.
    expectRetryLater(await trpcWhoami(app.trpcUrl, bearer(alice), 2500), 'trpc', 'slow whoami');
    expectRetryLater(await graphqlPost(app.graphqlUrl, '{ notes { id } }', bearer(alice), 2500), 'graphql', 'slow notes');
    expectRetryLater(await raw(`${app.trpcUrl}/machine.ping`, { headers: bearer(issuer.opaqueM2mToken().token), timeoutMs: 2500 }), 'trpc', 'slow opaque token');
    api.setFault({ mode: 'none' });
    expect(userIdOf(await untilServed(() => trpcWhoami(app.trpcUrl, bearer(alice), 2500), 'trpc'))).toBe('user_alice');
  });

  it('a flapping API: every answer is 200 for the right user or 503 + Retry-After, and once the keys are in, flapping stops mattering', async () => {
    api.setFault({ mode: 'flapping' });
    const servers = await start(secretKeyOnly());
    const statuses = new Set<number>();
    let ok = 0;
    for (let attempt = 0; attempt < 200 && ok < 2; attempt++) {
      const [trpc, graphql] = await Promise.all([trpcWhoami(servers.trpc.url, bearer(alice)), graphqlPost(servers.graphql.url, '{ notes { authorId } }', bearer(alice))]);
      for (const [response, transport] of [[trpc, 'trpc'], [graphql, 'graphql']] as const) {
        statuses.add(response.status);
        if (response.status === 503) expectRetryLater(response, transport, 'flapping');
      }
      if (trpc.status === 200) expect(userIdOf(trpc)).toBe('user_alice');
      ok = Number(trpc.status === 200) + Number(graphql.status === 200);
      if (ok < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ok).toBe(2);
    expect([...statuses].every((status) => status === 200 || status === 503)).toBe(true);
    const jwks = api.count('jwks');
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? trpcWhoami(servers.trpc.url, bearer(alice)) : graphqlPost(servers.graphql.url, '{ notes { authorId } }', bearer(alice)))));
    expect(after.map((response) => response.status)).toEqual(Array(40).fill(200));
    expect(api.count('jwks')).toBe(jwks);
    // `me` calls the API on every request: each answer is the user or a clear gateway error, never a 500.
    for (let i = 0; i < 6; i++) {
      const me = await raw(`${servers.trpc.url}/me`, { headers: bearer(alice) });
      expect([200, 502]).toContain(me.status);
      const gme = await graphqlPost(servers.graphql.url, '{ me { id } }', bearer(alice));
      expect(gme.status).toBe(200);
      const body = json<GraphQLBody>(gme);
      if (body.errors) expect(body.data).toEqual({ me: null });
      else expect(body.data).toEqual({ me: { id: 'user_alice' } });
    }
  });

  it('an unknown kid is 401 jwk-kid-mismatch and does not turn requests into JWKS fetches', async () => {
    const servers = await start(secretKeyOnly());
    expect(userIdOf(await trpcWhoami(servers.trpc.url, bearer(alice)))).toBe('user_alice');
    const foreign = await stranger.sessionToken({ userId: 'user_alice' });
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? trpcWhoami(servers.trpc.url, bearer(foreign)) : graphqlPost(servers.graphql.url, '{ notes { id } }', bearer(foreign)))),
    );
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="jwk-kid-mismatch"');
    }
    expect(api.count('jwks')).toBeLessThanOrEqual(3); // tRPC's first fetch, GraphQL's first fetch, at most one refetch
  });
});

describe('100 simultaneous cold requests', () => {
  async function coldServers(): Promise<{ trpcUrl: string; graphqlUrl: string; trpcApi: FakeClerkApi; graphqlApi: FakeClerkApi }> {
    // One fake API per server, so each server's JWKS fetches are counted on their own.
    const [trpcApi, graphqlApi] = await Promise.all([startFakeClerkApi({ issuer }), startFakeClerkApi({ issuer })]);
    const trpc = await startTrpcServer({ port: 0, env: cleanEnv({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: trpcApi.apiUrl }), log: () => {} });
    const graphql = await startGraphQLServer({ port: 0, env: cleanEnv({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: graphqlApi.apiUrl }), log: () => {} });
    running.push(trpc, graphql, trpcApi, graphqlApi);
    return { trpcUrl: trpc.url, graphqlUrl: graphql.url, trpcApi, graphqlApi };
  }

  it('cause one JWKS fetch per server, and every caller gets its own identity', async () => {
    const { trpcUrl, graphqlUrl, trpcApi, graphqlApi } = await coldServers();
    // A slow JWKS answer keeps every request waiting on the same fetch.
    trpcApi.setFault({ mode: 'none', delayMs: 300 });
    graphqlApi.setFault({ mode: 'none', delayMs: 300 });
    const users = Array.from({ length: 100 }, (_, i) => `user_cold_${i}`);
    const tokens = await Promise.all(users.map((userId) => issuer.sessionToken({ userId, expiresInSeconds: 600 })));
    const [trpc, graphql] = await Promise.all([
      Promise.all(tokens.map((token) => trpcWhoami(trpcUrl, bearer(token)))),
      Promise.all(tokens.map((token) => graphqlPost(graphqlUrl, '{ notes { authorId } } ', bearer(token)))),
    ]);
    trpc.forEach((response, i) => expect(userIdOf(response)).toBe(users[i]));
    graphql.forEach((response) => expect(json<GraphQLBody>(response)).toEqual({ data: { notes: [] } }));
    expect(trpcApi.count('jwks')).toBe(1);
    expect(graphqlApi.count('jwks')).toBe(1);
    expect(trpcApi.requestCount + graphqlApi.requestCount).toBe(2);
  });

  it('while the API is down: all answer 503 + Retry-After after one JWKS attempt per server', async () => {
    const { trpcUrl, graphqlUrl, trpcApi, graphqlApi } = await coldServers();
    trpcApi.setFault({ mode: 'down', delayMs: 200 });
    graphqlApi.setFault({ mode: 'down', delayMs: 200 });
    const [trpc, graphql] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, () => trpcWhoami(trpcUrl, bearer(alice)))),
      Promise.all(Array.from({ length: 100 }, () => graphqlPost(graphqlUrl, '{ notes { id } }', bearer(alice)))),
    ]);
    for (const response of trpc) expectRetryLater(response, 'trpc', 'cold, API down');
    for (const response of graphql) expectRetryLater(response, 'graphql', 'cold, API down');
    expect(trpcApi.count('jwks')).toBe(1);
    expect(graphqlApi.count('jwks')).toBe(1);
  });
});
