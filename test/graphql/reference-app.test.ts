/**
 * The reference GraphQL server (examples/graphql-yoga) end to end, in-process, over real loopback
 * HTTP, SSE and graphql-ws, with real tokens from the test issuer: every field signed out, signed in,
 * and without the role or permission it needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startGraphQLServer, type GraphQLServer } from '../../examples/graphql-yoga/server.js';
import { ADMIN, ALICE, BOB, codes, envFor, gql, MEMBER, nextEvent, sse, WRITER, wsClient, wsCollect } from './helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: GraphQLServer;
let url: string;
const log: string[] = [];
const tokens: Record<'alice' | 'bob' | 'admin' | 'writer' | 'member', string> = { alice: '', bob: '', admin: '', writer: '', member: '' };

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }, { id: 'user_writer', email: 'writer@example.com' }] });
  server = await startGraphQLServer({
    port: 0,
    env: envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }),
    log: (line) => log.push(line),
  });
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

describe('health (public)', () => {
  it('answers anyone, whatever the token', async () => {
    for (const token of [undefined, tokens.alice, 'garbage.token.value']) {
      const response = await gql(url, '{ health }', token === undefined ? {} : { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { health: 'ok' } });
    }
  });
});

describe('me (@auth, Backend API)', () => {
  it('is null with UNAUTHENTICATED at its path when signed out, the rest still answers', async () => {
    const response = await gql(url, '{ health me { id } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ health: 'ok', me: null });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
  });

  it('returns the caller from ctx.clerk.users.getUser when signed in', async () => {
    const response = await gql(url, '{ me { id email } }', { token: tokens.alice });
    expect(response.body).toEqual({ data: { me: { id: 'user_alice', email: 'alice@example.com' } } });
  });
});

describe('notes (@auth, non-null list)', () => {
  it('signed out: null propagates to data (notes is non-null), one error, HTTP 200', async () => {
    const response = await gql(url, '{ health notes { id } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toBeNull();
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.errors?.[0]?.path).toEqual(['notes']);
  });

  it("signed in: the caller's notes only", async () => {
    const created = await gql(url, 'mutation { createNote(text: "writer note") { id text authorId } }', { token: tokens.writer });
    expect(created.status).toBe(200);
    const mine = await gql(url, '{ notes { text authorId } }', { token: tokens.writer });
    expect(mine.body.data?.notes).toContainEqual({ text: 'writer note', authorId: 'user_writer' });
    const theirs = await gql(url, '{ notes { text } }', { token: tokens.alice });
    expect(theirs.body).toEqual({ data: { notes: [] } });
  });
});

describe('node(id) (public field, Note @auth through the Node interface)', () => {
  let noteId = '';
  beforeAll(async () => {
    const created = await gql(url, 'mutation { createNote(text: "secret text of the writer") { id } }', { token: tokens.writer });
    noteId = (created.body.data?.createNote as { id: string }).id;
  });

  it('returns the note to its author', async () => {
    const response = await gql(url, `{ node(id: "${noteId}") { id ... on Note { text authorId } } }`, { token: tokens.writer });
    expect(response.body).toEqual({ data: { node: { id: noteId, text: 'secret text of the writer', authorId: 'user_writer' } } });
  });

  it('never leaks any field of the note to an anonymous caller or to another user', async () => {
    for (const token of [undefined, tokens.bob]) {
      for (const query of [
        `{ node(id: "${noteId}") { id ... on Note { text authorId } } }`,
        `{ node(id: "${noteId}") { ...F } } fragment F on Note { text }`,
        `{ x: node(id: "${noteId}") { ... on Node { id } } }`,
      ]) {
        const response = await gql(url, query, token === undefined ? {} : { token });
        expect(response.status).toBe(200);
        expect(JSON.stringify(response.body)).not.toContain('secret text');
        expect(JSON.stringify(response.body)).not.toContain('user_writer');
        expect(Object.values(response.body.data ?? {})).toEqual([null]);
      }
    }
  });
});

describe('adminStats (@hasRole org:admin)', () => {
  it('signed out: UNAUTHENTICATED; signed in without the role: FORBIDDEN; admin: counts every note', async () => {
    const anonymous = await gql(url, '{ adminStats { notes } }');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toEqual({ adminStats: null });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);

    for (const token of [tokens.alice, tokens.member, tokens.writer]) {
      const forbidden = await gql(url, '{ health adminStats { notes } }', { token });
      expect(forbidden.status).toBe(200);
      expect(forbidden.body.data).toEqual({ health: 'ok', adminStats: null });
      expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    }

    const admin = await gql(url, '{ adminStats { notes } }', { token: tokens.admin });
    expect(admin.body).toEqual({ data: { adminStats: { notes: server.store.count() } } });
  });
});

describe('createNote (@hasPermission org:notes:create)', () => {
  it('signed out: 401 whole with WWW-Authenticate, and the resolver never ran', async () => {
    const before = server.store.count();
    const response = await gql(url, 'mutation { createNote(text: "anonymous") { id } }');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body.data).toBeUndefined();
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(server.store.count()).toBe(before);
  });

  it('signed in without the permission: 403 FORBIDDEN whole, and the resolver never ran', async () => {
    const before = server.store.count();
    for (const token of [tokens.alice, tokens.member]) {
      const response = await gql(url, 'mutation { createNote(text: "no permission") { id } }', { token });
      expect(response.status).toBe(403);
      expect(codes(response)).toEqual(['FORBIDDEN']);
    }
    expect(server.store.count()).toBe(before);
  });

  it('with the permission: creates the note for the caller', async () => {
    const before = server.store.count();
    const response = await gql(url, 'mutation { createNote(text: "hello") { text authorId } }', { token: tokens.writer });
    expect(response.body).toEqual({ data: { createNote: { text: 'hello', authorId: 'user_writer' } } });
    expect(server.store.count()).toBe(before + 1);
  });
});

describe('a presented token that fails verification', () => {
  it('expired or garbage: any operation selecting a guarded field is rejected whole, 401 invalid_token', async () => {
    const expired = await issuer.sessionToken({ ...ADMIN, expiresInSeconds: -60 });
    const foreign = await (await createTestIssuer()).sessionToken(ADMIN);
    for (const [token, reason] of [
      [expired, 'token-expired'],
      ['garbage.token.value', 'token-invalid'],
      [foreign, 'token-invalid-signature'],
    ] as const) {
      for (const query of ['{ health notes { id } }', '{ health node(id: "note_1") { id } }', '{ health adminStats { notes } }']) {
        const response = await gql(url, query, { token });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        expect(response.body.data).toBeUndefined();
        expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: expect.stringMatching(reason === 'token-invalid-signature' ? /^token-invalid/ : reason) });
      }
      const before = server.store.count();
      const mutation = await gql(url, 'mutation { createNote(text: "x") { id } }', { token });
      expect(mutation.status).toBe(401);
      expect(server.store.count()).toBe(before);
    }
  });

  it('a machine token is not a session: guarded fields answer 401', async () => {
    const m2m = await issuer.m2mToken();
    const response = await gql(url, '{ notes { id } }', { token: m2m });
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('noteAdded subscription (@auth) over SSE', () => {
  it('signed out: 401 before anything runs', async () => {
    const stream = await sse(url, 'subscription { noteAdded { id } }');
    expect(stream.status).toBe(401);
    expect(stream.headers.get('www-authenticate')).toBe('Bearer');
    const first = await nextEvent(stream.events);
    expect(first.payload?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    stream.close();
  });

  it("signed in: receives each note the caller creates, and not other users' notes", async () => {
    const stream = await sse(url, 'subscription { noteAdded { text authorId } }', tokens.writer);
    expect(stream.status).toBe(200);
    // Create until the stream has delivered one (the subscription may not be registered on the first try).
    const received = nextEvent(stream.events);
    await gql(url, 'mutation { createNote(text: "ignored admin note") { id } }', { token: tokens.admin });
    const created = gql(url, 'mutation { createNote(text: "live") { id } }', { token: tokens.writer });
    let event = await Promise.race([received, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
    while (event === null) {
      await gql(url, 'mutation { createNote(text: "live") { id } }', { token: tokens.writer });
      event = await Promise.race([received, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
    }
    await created;
    expect(event).toEqual({ event: 'next', payload: { data: { noteAdded: { text: 'live', authorId: 'user_writer' } } } });
    stream.close();
  });

  it('ends with UNAUTHENTICATED when the session token expires', async () => {
    // Expired 3 s ago: still inside Clerk's 5 s clock skew, so it verifies, then expires shortly.
    const shortLived = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
    const stream = await sse(url, 'subscription { noteAdded { id } }', shortLived);
    expect(stream.status).toBe(200);
    const last = await nextEvent(stream.events);
    expect(last.event).toBe('next');
    expect(last.payload?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
    expect((await nextEvent(stream.events)).event).toBe('complete');
    stream.close();
  });
});

describe('noteAdded subscription over graphql-ws (connectionParams)', () => {
  it('authenticates from connectionParams.authorization and delivers the caller’s notes', async () => {
    const client = wsClient(url, { authorization: `Bearer ${tokens.writer}` });
    const sub = wsCollect(client, 'subscription { noteAdded { text } }', 1);
    await sub.started;
    let results: Awaited<typeof sub.results> | null = null;
    while (results === null) {
      await gql(url, 'mutation { createNote(text: "over ws") { id } }', { token: tokens.writer });
      results = await Promise.race([sub.results, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
    }
    expect(results).toEqual([{ data: { noteAdded: { text: 'over ws' } } }]);
    await client.dispose();
  });

  it('rejects anonymous and garbage credentials before subscribe runs', async () => {
    const cases: Array<[Record<string, unknown> | undefined, string]> = [
      [undefined, 'UNAUTHENTICATED'],
      [{ authorization: 'Bearer garbage.token.value' }, 'UNAUTHENTICATED'],
      // Two different credentials are the request's fault (RFC 6750 invalid_request), not a token to refresh.
      [{ token: tokens.alice, authorization: `Bearer ${tokens.bob}` }, 'INVALID_REQUEST'],
    ];
    for (const [params, code] of cases) {
      const client = wsClient(url, params);
      const results = await wsCollect(client, 'subscription { noteAdded { id } }').results;
      expect(results.at(-1)?.errors?.[0]?.extensions?.code).toBe(code);
      await client.dispose();
    }
  });
});

describe('access log', () => {
  it('logs one line per request with the user or anonymous, never a token', () => {
    expect(log.some((line) => /^graphql POST \/graphql 200 user_writer \d/.test(line))).toBe(true);
    expect(log.some((line) => /^graphql POST \/graphql 401 anonymous \d/.test(line))).toBe(true);
    for (const token of Object.values(tokens)) expect(log.join('\n')).not.toContain(token);
  });
});

describe('networkless mode (CLERK_JWT_KEY only)', () => {
  it('me answers a clear error naming CLERK_SECRET_KEY, never a 500 or a stack', async () => {
    const networkless = await startGraphQLServer({ port: 0, env: envFor(issuer), log: () => {} });
    try {
      const response = await gql(networkless.url, '{ health me { id } }', { token: tokens.alice });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ health: 'ok', me: null });
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'CLERK_SECRET_KEY_REQUIRED' });
      expect(response.body.errors?.[0]?.message).toContain('CLERK_SECRET_KEY');
      expect(JSON.stringify(response.body)).not.toMatch(/stack|at .*\.ts:\d+/);
    } finally {
      await networkless.close();
    }
  });
});
