/**
 * The reference app's GraphQL contract (every GraphQL server of examples/ answers it), as one suite
 * run against each server in-process over real loopback HTTP (and its WebSocket / SSE), with real
 * tokens from the test issuer and the Backend API stand-in. Every response is recorded, so the
 * cross-cutting rules (a `WWW-Authenticate` on every 401, `extensions.http` never in a body, no token
 * in the access log) are checked over all of them.
 */
import { GraphQLClient, ClientError } from 'graphql-request';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkFetch } from 'clerk-api-auth/client';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import type { NotesStore } from '../../examples/shared/notes.js';
import { ADMIN, ALICE, BOB, codes, envFor, MEMBER, nextEvent, sse, WRITER, wsClient, wsCollect, type GraphQLResponse } from '../graphql/helpers.js';

export interface ReferenceServer {
  url: string;
  store: NotesStore;
  close(): Promise<void>;
}

export interface ReferenceSuiteOptions {
  /** The server's name, as its access log starts each line. */
  name: string;
  start(options: { port: number; env: NodeJS.ProcessEnv; log: (line: string) => void }): Promise<ReferenceServer>;
  /** Whether the server streams subscriptions over SSE (GraphQL Yoga does; Mercurius does not). */
  sse: boolean;
}

interface Recorded extends GraphQLResponse {
  what: string;
  /** Whether the suite's main server answered it (the others log elsewhere). */
  main: boolean;
}

export function referenceServerSuite(options: ReferenceSuiteOptions): void {
  const { name } = options;
  let issuer: TestIssuer;
  let api: FakeClerkApi;
  let server: ReferenceServer;
  let url = '';
  const log: string[] = [];
  const responses: Recorded[] = [];
  const tokens: Record<'alice' | 'bob' | 'admin' | 'writer' | 'member', string> = { alice: '', bob: '', admin: '', writer: '', member: '' };

  /** One GraphQL POST over real HTTP, recorded. */
  async function call(query: string, token?: string, headers?: Record<string, string>): Promise<GraphQLResponse> {
    const init: RequestInit = {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }),
      body: JSON.stringify({ query }),
    };
    if (token !== undefined) (init.headers as Headers).set('authorization', `Bearer ${token}`);
    const response = await fetch(url, init);
    const text = await response.text();
    const recorded: Recorded = { what: query, main: url === server.url, status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLResponse['body'] };
    responses.push(recorded);
    return recorded;
  }

  beforeAll(async () => {
    issuer = await createTestIssuer();
    api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }, { id: 'user_writer', email: 'writer@example.com' }] });
    server = await options.start({ port: 0, env: envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }), log: (line) => log.push(line) });
    url = server.url;
    const lifetime = { expiresInSeconds: 600 };
    tokens.alice = await issuer.sessionToken({ ...ALICE, ...lifetime });
    tokens.bob = await issuer.sessionToken({ ...BOB, ...lifetime });
    tokens.admin = await issuer.sessionToken({ ...ADMIN, ...lifetime });
    tokens.writer = await issuer.sessionToken({ ...WRITER, ...lifetime });
    tokens.member = await issuer.sessionToken({ ...MEMBER, ...lifetime });
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
  });

  describe(`${name}: health (public)`, () => {
    it('answers anyone, whatever the token', async () => {
      for (const token of [undefined, tokens.alice, 'garbage.token.value']) {
        const response = await call('{ health }', token);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ data: { health: 'ok' } });
      }
    });
  });

  describe(`${name}: signed out (partial data)`, () => {
    it('a nullable guarded field is null with UNAUTHENTICATED at its path, the rest answers, HTTP 200', async () => {
      const response = await call('{ health me { id } }');
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ health: 'ok', me: null });
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors?.[0]).toMatchObject({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
    });

    it('a non-null guarded field propagates null to data, one error, HTTP 200', async () => {
      const response = await call('{ health notes { id } }');
      expect(response.status).toBe(200);
      expect(response.body.data).toBeNull();
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.body.errors?.[0]?.path).toEqual(['notes']);
    });
  });

  describe(`${name}: signed in`, () => {
    it('me comes from the Backend API (one users.get call at the stand-in)', async () => {
      const before = api.count('users.get');
      const response = await call('{ me { id email } }', tokens.alice);
      expect(response.body).toEqual({ data: { me: { id: 'user_alice', email: 'alice@example.com' } } });
      expect(api.count('users.get')).toBe(before + 1);
    });

    it("notes are the caller's own; node(id) shows a note to its author only", async () => {
      const created = await call('mutation { createNote(text: "secret text of the writer") { id text authorId } }', tokens.writer);
      expect(created.status).toBe(200);
      const id = (created.body.data?.createNote as { id: string }).id;
      expect((await call('{ notes { text authorId } }', tokens.writer)).body.data?.notes).toContainEqual({ text: 'secret text of the writer', authorId: 'user_writer' });
      expect((await call('{ notes { text } }', tokens.alice)).body).toEqual({ data: { notes: [] } });
      expect((await call(`{ node(id: "${id}") { id ... on Note { text } } }`, tokens.writer)).body).toEqual({ data: { node: { id, text: 'secret text of the writer' } } });
      for (const token of [undefined, tokens.bob]) {
        const response = await call(`{ node(id: "${id}") { id ... on Note { text authorId } } }`, token);
        expect(response.status).toBe(200);
        expect(JSON.stringify(response.body)).not.toContain('secret text');
        expect(response.body.data).toEqual({ node: null });
      }
    });
  });

  describe(`${name}: role (adminStats, org:admin)`, () => {
    it('without the role: null with FORBIDDEN, the rest answers, HTTP 200; admin: counts every note', async () => {
      for (const token of [tokens.alice, tokens.member, tokens.writer]) {
        const response = await call('{ health adminStats { notes } }', token);
        expect(response.status).toBe(200);
        expect(response.body.data).toEqual({ health: 'ok', adminStats: null });
        expect(codes(response)).toEqual(['FORBIDDEN']);
      }
      expect((await call('{ adminStats { notes } }', tokens.admin)).body).toEqual({ data: { adminStats: { notes: server.store.count() } } });
    });
  });

  describe(`${name}: permission (createNote, org:notes:create)`, () => {
    it('signed out: 401 whole with WWW-Authenticate: Bearer, no data, and the resolver never ran', async () => {
      const before = server.store.count();
      const response = await call('mutation { createNote(text: "anonymous") { id } }');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).not.toHaveProperty('data');
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
      expect(server.store.count()).toBe(before);
    });

    it('signed in without the permission: 403 FORBIDDEN whole, insufficient_scope, and the resolver never ran', async () => {
      const before = server.store.count();
      for (const token of [tokens.alice, tokens.member]) {
        const response = await call('mutation { createNote(text: "no permission") { id } }', token);
        expect(response.status).toBe(403);
        expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
        expect(response.body).not.toHaveProperty('data');
        expect(codes(response)).toEqual(['FORBIDDEN']);
      }
      expect(server.store.count()).toBe(before);
    });

    it('with the permission: creates the note for the caller', async () => {
      const before = server.store.count();
      const response = await call('mutation { createNote(text: "hello") { text authorId } }', tokens.writer);
      expect(response.body).toEqual({ data: { createNote: { text: 'hello', authorId: 'user_writer' } } });
      expect(server.store.count()).toBe(before + 1);
    });
  });

  describe(`${name}: a presented token that fails verification`, () => {
    it('expired, garbage or foreign: anything selecting a guarded field is rejected whole, 401 invalid_token; no side effect', async () => {
      const expired = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: -60 });
      const foreign = await (await createTestIssuer()).sessionToken(ADMIN);
      for (const [token, reason] of [
        [expired, /^token-expired$/],
        ['garbage.token.value', /^token-invalid$/],
        [foreign, /^token-invalid/],
      ] as const) {
        for (const query of ['{ health notes { id } }', '{ health node(id: "note_1") { id } }', '{ me { id } adminStats { notes } }']) {
          const response = await call(query, token);
          expect(response.status, query).toBe(401);
          expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
          expect(response.body).not.toHaveProperty('data');
          // GraphQL Yoga lists the rejection at each denied field node; Mercurius answers it once.
          expect(response.body.errors?.length).toBeGreaterThanOrEqual(1);
          for (const error of response.body.errors ?? []) {
            expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: expect.stringMatching(reason) });
            expect(error).not.toHaveProperty('path');
          }
        }
        const before = server.store.count();
        const mutation = await call('mutation { createNote(text: "x") { id } }', token);
        expect(mutation.status).toBe(401);
        expect(server.store.count()).toBe(before);
      }
      const expiredAnswer = await call('{ notes { id } }', expired);
      expect(expiredAnswer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    });

    it('a machine token is not a session: guarded fields answer 401', async () => {
      const response = await call('{ notes { id } }', await issuer.m2mToken());
      expect(response.status).toBe(401);
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    });

    it('a doubled or malformed Authorization is the request’s fault: 400 invalid_request, whole', async () => {
      for (const authorization of [`Bearer ${tokens.writer}, Bearer ${tokens.alice}`, 'Basic dXNlcjpwYXNz']) {
        const response = await call('{ notes { id } }', undefined, { authorization });
        expect(response.status).toBe(400);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
        expect(codes(response)).toEqual(['INVALID_REQUEST']);
      }
    });
  });

  describe(`${name}: bad input`, () => {
    it('gets a clear error, never a 500 (malformed bodies, a query that is not a string or not GraphQL, a long garbage token)', async () => {
      for (const body of ['{"query":', '', '{"query": 42}', '[1, 2]', '{"query": "{ notes { id } "}']) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status, body).toBeLessThan(500);
        const answer = (await response.json()) as GraphQLResponse['body'];
        // A 4xx, or (legacy application/json answers) a 200 that carries the error and no data.
        if (response.status === 200) expect(answer.errors?.length, body).toBeGreaterThan(0);
        else expect(response.status, body).toBeGreaterThanOrEqual(400);
        expect(answer.data ?? null, body).toBeNull();
      }
      const long = await call('{ notes { id } }', `${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(100)}`);
      expect(long.status).toBe(401);
      expect(long.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    });
  });

  describe(`${name}: Clerk unreachable while verifying`, () => {
    it('503 with Retry-After and CLERK_API_UNAVAILABLE; public fields still answer', async () => {
      const offline = await startFakeClerkApi({ issuer });
      // Secret key only: the signing keys come from the Backend API, which is down.
      const cold = await options.start({ port: 0, env: { ...envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: offline.apiUrl }), CLERK_JWT_KEY: undefined }, log: () => {} });
      try {
        offline.setFault({ mode: 'down' });
        const saved = url;
        url = cold.url;
        try {
          const response = await call('{ health notes { id } }', tokens.writer);
          expect(response.status).toBe(503);
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
          expect(codes(response)).toEqual(['CLERK_API_UNAVAILABLE']);
          expect(response.body).not.toHaveProperty('data');
          expect((await call('{ health }', tokens.writer)).body).toEqual({ data: { health: 'ok' } });
        } finally {
          url = saved;
        }
      } finally {
        await cold.close();
        await offline.close();
      }
    });
  });

  describe(`${name}: a real GraphQL client (graphql-request) with createClerkFetch`, () => {
    it('refreshes an expired token once and gets the data', async () => {
      const expired = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
      const asked: boolean[] = [];
      const getToken = async (options?: { skipCache?: boolean }): Promise<string> => {
        asked.push(options?.skipCache === true);
        return options?.skipCache === true ? tokens.writer : expired;
      };
      const client = new GraphQLClient(url, { fetch: createClerkFetch({ getToken }) });
      const before = log.length;
      const data = await client.request<{ notes: Array<{ authorId: string }> }>('{ notes { authorId } }');
      expect(data.notes.length).toBeGreaterThan(0);
      expect(data.notes.every((note) => note.authorId === 'user_writer')).toBe(true);
      expect(asked).toEqual([false, true]);
      // Two requests reached the server: the refused one (401, the expired token) and the retry (200).
      const lines = log.slice(before);
      expect(lines.map((line) => line.split(' ')[3])).toEqual(['401', '200']);
    });

    it('does not ask for a new token when a fresh one cannot help (403), and surfaces the error', async () => {
      const asked: boolean[] = [];
      const client = new GraphQLClient(url, {
        fetch: createClerkFetch({
          getToken: async (options?: { skipCache?: boolean }) => {
            asked.push(options?.skipCache === true);
            return tokens.member;
          },
        }),
      });
      const error = await client.request('mutation { createNote(text: "nope") { id } }').then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).response.status).toBe(403);
      expect((error as ClientError).response.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(asked).toEqual([false]);
    });
  });

  describe(`${name}: noteAdded subscription over graphql-ws`, () => {
    it('authenticates from connectionParams.authorization and delivers the caller’s notes only', async () => {
      const client = wsClient(url, { authorization: `Bearer ${tokens.writer}` });
      try {
        const sub = wsCollect(client, 'subscription { noteAdded { text authorId } }', 1);
        await sub.started;
        let results: Awaited<typeof sub.results> | null = null;
        while (results === null) {
          await call('mutation { createNote(text: "not mine") { id } }', tokens.admin);
          await call('mutation { createNote(text: "over ws") { id } }', tokens.writer);
          results = await Promise.race([sub.results, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
        }
        expect(results).toEqual([{ data: { noteAdded: { text: 'over ws', authorId: 'user_writer' } } }]);
      } finally {
        await client.dispose();
      }
    });

    it('refuses anonymous, garbage and doubled credentials before subscribe runs', async () => {
      const cases: Array<[Record<string, unknown> | undefined, string, string]> = [
        [undefined, 'UNAUTHENTICATED', 'token-missing'],
        [{ authorization: 'Bearer garbage.token.value' }, 'UNAUTHENTICATED', 'token-invalid'],
        [{ token: tokens.alice, authorization: `Bearer ${tokens.bob}` }, 'INVALID_REQUEST', 'multiple-authorization-headers'],
      ];
      for (const [params, code, reason] of cases) {
        const client = wsClient(url, params);
        try {
          const results = await wsCollect(client, 'subscription { noteAdded { id } }').results;
          expect(results.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code, reason });
          expect(JSON.stringify(results)).not.toContain('"http"');
        } finally {
          await client.dispose();
        }
      }
    });

    it('reads the upgrade request’s Authorization when connectionParams carry none; a different token in both is refused', async () => {
      const upgradeWith = (token: string) =>
        class extends WebSocket {
          constructor(address: string | URL, protocols?: string | string[]) {
            super(address, protocols, { headers: { authorization: `Bearer ${token}` } });
          }
        };
      const fromHeader = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: upgradeWith(tokens.writer), lazy: true, retryAttempts: 0 });
      try {
        const sub = wsCollect(fromHeader, 'subscription { noteAdded { authorId } }', 1);
        await sub.started;
        let results: Awaited<typeof sub.results> | null = null;
        while (results === null) {
          await call('mutation { createNote(text: "header") { id } }', tokens.writer);
          results = await Promise.race([sub.results, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
        }
        expect(results).toEqual([{ data: { noteAdded: { authorId: 'user_writer' } } }]);
      } finally {
        await fromHeader.dispose();
      }
      const both = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: upgradeWith(tokens.writer),
        connectionParams: { authorization: `Bearer ${tokens.alice}` },
        lazy: true,
        retryAttempts: 0,
      });
      try {
        const results = await wsCollect(both, 'subscription { noteAdded { id } }').results;
        expect(results.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_REQUEST', reason: 'multiple-authorization-headers' });
      } finally {
        await both.dispose();
      }
    });

    it('ends with UNAUTHENTICATED (token-expired) when the session token expires', async () => {
      // Expired 3 s ago: still inside Clerk's 5 s clock skew, so it verifies, then expires shortly.
      const shortLived = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
      const client = wsClient(url, { authorization: `Bearer ${shortLived}` });
      try {
        const results = await wsCollect(client, 'subscription { noteAdded { id } }').results;
        expect(results).toHaveLength(1);
        expect(results[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
      } finally {
        await client.dispose();
      }
    });
  });

  if (options.sse) {
    describe(`${name}: noteAdded subscription over SSE`, () => {
      it('signed out: 401 before anything runs; expiring token: ends with token-expired', async () => {
        const anonymous = await sse(url, 'subscription { noteAdded { id } }');
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
        expect((await nextEvent(anonymous.events)).payload?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
        anonymous.close();

        const shortLived = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
        const stream = await sse(url, 'subscription { noteAdded { id } }', shortLived);
        expect(stream.status).toBe(200);
        const last = await nextEvent(stream.events);
        expect(last.payload?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
        expect((await nextEvent(stream.events)).event).toBe('complete');
        stream.close();
      });
    });
  }

  describe(`${name}: networkless mode (CLERK_JWT_KEY only)`, () => {
    it('me answers a clear error naming CLERK_SECRET_KEY, never a 500 or a stack', async () => {
      const networkless = await options.start({ port: 0, env: envFor(issuer), log: () => {} });
      try {
        const saved = url;
        url = networkless.url;
        try {
          const response = await call('{ health me { id } }', tokens.alice);
          expect(response.status).toBe(200);
          expect(response.body.data).toEqual({ health: 'ok', me: null });
          expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'CLERK_SECRET_KEY_REQUIRED' });
          expect(response.body.errors?.[0]?.message).toContain('CLERK_SECRET_KEY');
          expect(JSON.stringify(response.body)).not.toMatch(/stack|at .*\.ts:\d+/);
        } finally {
          url = saved;
        }
      } finally {
        await networkless.close();
      }
    });
  });

  describe(`${name}: across every answer above`, () => {
    it('every 401 carries WWW-Authenticate: Bearer (invalid_token when a token was presented)', () => {
      const unauthorized = responses.filter((response) => response.status === 401);
      expect(unauthorized.length).toBeGreaterThan(10);
      for (const response of unauthorized) expect(response.headers.get('www-authenticate'), response.what).toMatch(/^Bearer( error="invalid_token"|$)/);
    });

    it('extensions.http (the status and headers for the server) never reaches a body', () => {
      expect(responses.length).toBeGreaterThan(30);
      expect(responses.some((response) => response.status !== 200)).toBe(true);
      for (const response of responses) {
        for (const error of response.body.errors ?? []) expect(error.extensions ?? {}, response.what).not.toHaveProperty('http');
        expect(JSON.stringify(response.body), response.what).not.toContain('"http"');
      }
    });

    it('the access log has one line per request (method, path, status, user or anonymous, ms) and never a token', () => {
      const pattern = new RegExp(`^${name} (POST|GET) /graphql \\d{3} (user_\\w+|anonymous) \\d+(\\.\\d+)?ms$`);
      expect(log.length).toBeGreaterThanOrEqual(responses.filter((response) => response.main).length);
      for (const line of log) expect(line).toMatch(pattern);
      expect(log.some((line) => line.includes(' 200 user_writer '))).toBe(true);
      expect(log.some((line) => line.includes(' 401 anonymous '))).toBe(true);
      for (const token of Object.values(tokens)) expect(log.join('\n')).not.toContain(token);
      expect(log.join('\n')).not.toMatch(/eyJ[\w-]+\.eyJ/);
    });
  });
}
