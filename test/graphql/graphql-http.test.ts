/**
 * graphql-http on Node's `http` server, with graphql-ws on the same server for subscriptions, as a
 * user writes it: a schema from `clerkDirectiveTransformer`, `...clerkGraphQLHttp().http` in
 * `createHandler` and `...clerkGraphQLHttp().ws` in `useServer`. Real loopback HTTP and WebSocket,
 * real tokens: signed out, signed in, role, permission, an expired token (401 `invalid_token`,
 * whole), partial data with null propagation, denied mutations that run nothing, a subscription
 * ended at expiry, `WWW-Authenticate` on every 401, `extensions.http` never in a body, and
 * graphql-request with `createClerkFetch` refreshing an expired token once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createHandler } from 'graphql-http/lib/use/http';
import { GraphQLClient } from 'graphql-request';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ClerkAuthConfigError, createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createClerkFetch } from 'clerk-api-auth/client';
import { clerkDirectiveTransformer, clerkGraphQLHttp } from 'clerk-api-auth/graphql';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { createResolvers, fixtureTypeDefs, newCounters, SECRET, type Counters } from './fixtures.js';
import { ADMIN, ALICE, codes, gql as post, MEMBER, WRITER, wsClient, wsCollect, type GraphQLResponse } from './helpers.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
const counters: Counters = newCounters();
const closers: Array<() => Promise<void>> = [];
let url = '';
const tokens = { alice: '', admin: '', writer: '', member: '', expired: '' };
const unauthorized: GraphQLResponse[] = [];

/** A subscription that ticks until it is stopped (or its token expires). */
const clockTypeDefs = 'extend type Subscription { clock: Int! @auth }';
async function* clock(): AsyncGenerator<number> {
  for (let tick = 1; ; tick++) {
    yield tick;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Serves graphql-http (and graphql-ws on the same path) for `auth`, on a free loopback port. */
async function serve(auth: ClerkAuth, local: Counters): Promise<string> {
  const resolvers = createResolvers(local, 50);
  const schema = clerkDirectiveTransformer(
    makeExecutableSchema({
      typeDefs: [...fixtureTypeDefs, clockTypeDefs],
      resolvers: { ...resolvers, Subscription: { ...resolvers.Subscription, clock: { subscribe: clock, resolve: (tick: number) => tick } } },
    }),
  );
  const clerk = clerkGraphQLHttp(auth);
  const handler = createHandler({ schema, ...clerk.http });
  const server: Server = createServer((req, res) => void handler(req, res));
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const ws = useServer({ schema, ...clerk.ws }, wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await ws.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** POSTs an operation; checks what every answer must satisfy (no `extensions.http`, a challenge on every 401). */
async function gql(target: string, query: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<GraphQLResponse> {
  const response = await post(target, query, options);
  expect(JSON.stringify(response.body)).not.toMatch(/"http"/);
  if (response.status === 401) {
    unauthorized.push(response);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  }
  return response;
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  url = await serve(clerkAuth, counters);
  const lifetime = { expiresInSeconds: 600 };
  tokens.alice = await issuer.sessionToken({ ...ALICE, ...lifetime });
  tokens.admin = await issuer.sessionToken({ ...ADMIN, ...lifetime });
  tokens.writer = await issuer.sessionToken({ ...WRITER, ...lifetime });
  tokens.member = await issuer.sessionToken({ ...MEMBER, ...lifetime });
  tokens.expired = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60, issuedAtOffsetSeconds: -120 });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('graphql-http with clerkGraphQLHttp and clerkDirectiveTransformer', () => {
  it('answers public fields to anyone, whatever the token', async () => {
    for (const token of [undefined, tokens.alice, tokens.expired, 'garbage.token.value']) {
      const response = await gql(url, '{ health }', token === undefined ? {} : { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { health: 'ok' } });
    }
  });

  it('signed out: a guarded field is null with UNAUTHENTICATED at its path, null propagating; nothing of it leaks, HTTP 200', async () => {
    const response = await gql(url, '{ health notes { text } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ health: 'ok', notes: null });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({ path: ['notes', 0, 'text'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
    expect(JSON.stringify(response.body)).not.toContain(SECRET);
  });

  it('signed in: the guarded field answers', async () => {
    expect((await gql(url, '{ notes { id text } }', { token: tokens.alice })).body).toEqual({ data: { notes: [{ id: 'note_1', text: SECRET }] } });
  });

  it('role and permission: FORBIDDEN without (the rest answers), the data with', async () => {
    const role = await gql(url, '{ health admin }', { token: tokens.member });
    expect(role.status).toBe(200);
    expect(role.body.data).toEqual({ health: 'ok', admin: null });
    expect(codes(role)).toEqual(['FORBIDDEN']);
    expect((await gql(url, '{ admin }', { token: tokens.admin })).body).toEqual({ data: { admin: 'admin-data' } });

    const permission = await gql(url, '{ perm }', { token: tokens.writer });
    expect(permission.status).toBe(200);
    expect(codes(permission)).toEqual(['FORBIDDEN']);
    expect((await gql(url, '{ perm }', { token: tokens.admin })).body).toEqual({ data: { perm: 'perm-data' } });
  });

  it('null propagates through a denied non-null field; a denied field in a list yields one error', async () => {
    const strict = await gql(url, '{ health strictAdmin }', { token: tokens.member });
    expect(strict.status).toBe(200);
    expect(strict.body.data).toBeNull();
    expect(codes(strict)).toEqual(['FORBIDDEN']);

    const items = await gql(url, '{ items { id a } }');
    expect((items.body.data?.items as Array<{ a: null }>).every((item) => item.a === null)).toBe(true);
    expect(codes(items)).toEqual(['UNAUTHENTICATED']);
    const strictItems = await gql(url, '{ strictItems { id a } }');
    expect(strictItems.body.data?.strictItems).toEqual(Array.from({ length: 50 }, () => null));
    expect(codes(strictItems)).toEqual(['UNAUTHENTICATED']);
  });

  it('an expired token is never anonymous: 401 invalid_token / token-expired, the whole operation, no resolver runs', async () => {
    const before = counters.resolved;
    const response = await gql(url, '{ health notes { id } }', { token: tokens.expired });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect(response.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect(response.body.data ?? null).toBeNull();
    expect(counters.resolved).toBe(before);
  });

  it('answers in the media type graphql-http negotiated', async () => {
    const json = await gql(url, '{ notes { id } }', { token: tokens.expired, headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('a forged token: 401 invalid_token; a malformed Authorization: 400 invalid_request', async () => {
    const forged = await gql(url, '{ notes { id } }', { token: 'garbage.token.value' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    const doubled = await gql(url, '{ notes { id } }', { headers: { authorization: `Bearer ${tokens.alice}, Bearer ${tokens.admin}` } });
    expect(doubled.status).toBe(400);
    expect(doubled.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
    expect(codes(doubled)).toEqual(['INVALID_REQUEST']);
  });

  it('a denied mutation runs nothing: 401 signed out, 403 without the role; runs once with it', async () => {
    const before = { ...counters };
    const anonymous = await gql(url, 'mutation { adminOnly }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const member = await gql(url, 'mutation { adminOnly touchPublic { id } }', { token: tokens.member });
    expect(member.status).toBe(403);
    expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(codes(member)).toEqual(['FORBIDDEN']);
    const touch = await gql(url, 'mutation { touchNote { id } }');
    expect(touch.status).toBe(401);
    expect(counters.adminOnly).toBe(before.adminOnly);
    expect(counters.touchNote).toBe(before.touchNote);
    expect(counters.touchPublic).toBe(before.touchPublic);

    const admin = await gql(url, 'mutation { adminOnly }', { token: tokens.admin });
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({ data: { adminOnly: true } });
    expect(counters.adminOnly).toBe(before.adminOnly + 1);
  });

  it('graphql-request with createClerkFetch refreshes an expired token once and gets the data', async () => {
    const asked: boolean[] = [];
    const clerkFetch = createClerkFetch({
      getToken: async (options) => {
        asked.push(options?.skipCache === true);
        return options?.skipCache === true ? tokens.alice : tokens.expired;
      },
    });
    const client = new GraphQLClient(url, { fetch: clerkFetch });
    expect(await client.request<{ notes: Array<{ text: string }> }>('{ notes { text } }')).toEqual({ notes: [{ text: SECRET }] });
    expect(asked).toEqual([false, true]);
  });
});

describe('graphql-ws on the same server (ws: clerkGraphQLHttp().ws)', () => {
  it('signed in: the subscription streams; signed out: UNAUTHENTICATED, subscribe never runs, no `http` in the payload', async () => {
    const signedIn = wsCollect(wsClient(url, { authorization: `Bearer ${tokens.alice}` }), 'subscription { ticks }');
    expect(await signedIn.results).toEqual([{ data: { ticks: 1 } }, { data: { ticks: 2 } }, { data: { ticks: 3 } }]);

    const before = counters.subscribed;
    const anonymous = await wsCollect(wsClient(url), 'subscription { ticks }').results;
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    expect(JSON.stringify(anonymous)).not.toMatch(/"http"/);
    expect(counters.subscribed).toBe(before);

    const expired = await wsCollect(wsClient(url, { token: tokens.expired }), 'subscription { ticks }').results;
    expect(expired[0]?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect(JSON.stringify(expired)).not.toMatch(/"http"/);
    expect(counters.subscribed).toBe(before);
  });

  it('a subscription ends with UNAUTHENTICATED / token-expired when its token expires', async () => {
    // Expired 2 s ago: still inside Clerk's 5 s clock skew, so it verifies, then stops counting about 3 s later
    // (room for a loaded machine to connect and subscribe first).
    const shortLived = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -2 });
    const started = Date.now();
    const results = await wsCollect(wsClient(url, { authorization: `Bearer ${shortLived}` }), 'subscription { clock }').results;
    const last = results.at(-1);
    expect(last?.errors?.[0]?.extensions, JSON.stringify(results)).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect(results.length, JSON.stringify(results)).toBeGreaterThan(1);
    expect(results.slice(0, -1).every((result) => typeof result.data?.clock === 'number')).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('queries and mutations over the WebSocket are decided the same way', async () => {
    const before = counters.adminOnly;
    const denied = await wsCollect(wsClient(url, { authorization: `Bearer ${tokens.member}` }), 'mutation { adminOnly }').results;
    expect(denied[0]?.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(JSON.stringify(denied)).not.toMatch(/"http"/);
    expect(counters.adminOnly).toBe(before);
  });
});

describe('clerkGraphQLHttp: configuration and Clerk unreachable', () => {
  let api: FakeClerkApi;
  let target = '';

  beforeAll(async () => {
    api = await startFakeClerkApi({ issuer });
    closers.push(() => api.close());
    target = await serve(createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl }), newCounters());
  });

  it('refuses invalid configuration at creation', () => {
    expect(() => clerkGraphQLHttp({ clerkAuth, secretKey: 'sk_test_x' })).toThrow(ClerkAuthConfigError);
    expect(() => clerkGraphQLHttp(42 as never)).toThrow(ClerkAuthConfigError);
  });

  it('answers 503 with Retry-After, whole, when Clerk cannot be asked', async () => {
    api.setFault({ mode: 'down' });
    const response = await gql(target, '{ health notes { id } }', { token: tokens.alice });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(codes(response)).toEqual(['CLERK_API_UNAVAILABLE']);
    api.setFault({ mode: 'none' });
  });

  it('every 401 above carried WWW-Authenticate: Bearer', () => {
    expect(unauthorized.length).toBeGreaterThanOrEqual(5);
    for (const response of unauthorized) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer( error="invalid_token".*)?$/);
  });
});
