/**
 * The reference app on Apollo Server (examples/apollo) and on graphql-http + graphql-ws
 * (examples/graphql-http), in-process, over real loopback HTTP (and WebSocket) with real tokens:
 * the same schema and answers as the GraphQL Yoga server, the same one-line access log.
 */
import { versionInfo } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startApolloServer } from '../../examples/apollo/server.js';
import { startGraphQLHttpServer } from '../../examples/graphql-http/server.js';
import type { NotesStore } from '../../examples/shared/notes.js';
import { ADMIN, ALICE, BOB, codes, envFor, gql as post, MEMBER, WRITER, wsClient, wsCollect, type GraphQLResponse } from './helpers.js';

interface Running {
  url: string;
  store: NotesStore;
  close(): Promise<void>;
}

const servers: Array<{ name: string; start: (options: { port: number; env: NodeJS.ProcessEnv; log: (line: string) => void }) => Promise<Running>; ws: boolean; skip: boolean }> = [
  // Apollo Server supports graphql 16 only (its peer range).
  // Apollo is skipped on the graphql 17 run (its peer range is graphql ^16.11) and has no WebSocket transport (ws: false).
  { name: 'apollo', start: startApolloServer, ws: false, skip: versionInfo.major !== 16 },
  { name: 'graphql-http', start: startGraphQLHttpServer, ws: true, skip: false },
];

/** Every answer: no `extensions.http` in the body, `WWW-Authenticate` on every 401. */
async function gql(url: string, query: string, options: { token?: string } = {}): Promise<GraphQLResponse> {
  const response = await post(url, query, options);
  expect(JSON.stringify(response.body)).not.toMatch(/"http"/);
  if (response.status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  return response;
}

describe.each(servers)('reference app on $name', ({ name, start, ws, skip }) => {
  let issuer: TestIssuer;
  let api: FakeClerkApi;
  let server: Running;
  let url = '';
  const log: string[] = [];
  const tokens = { alice: '', bob: '', admin: '', writer: '', member: '', expired: '' };

  beforeAll(async () => {
    if (skip) return;
    issuer = await createTestIssuer();
    api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
    server = await start({ port: 0, env: envFor(issuer, { CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl }), log: (line) => log.push(line) });
    url = server.url;
    const lifetime = { expiresInSeconds: 600 };
    tokens.alice = await issuer.sessionToken({ ...ALICE, ...lifetime });
    tokens.bob = await issuer.sessionToken({ ...BOB, ...lifetime });
    tokens.admin = await issuer.sessionToken({ ...ADMIN, ...lifetime });
    tokens.writer = await issuer.sessionToken({ ...WRITER, ...lifetime });
    tokens.member = await issuer.sessionToken({ ...MEMBER, ...lifetime });
    tokens.expired = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -60, issuedAtOffsetSeconds: -120 });
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
  });

  it.skipIf(skip)('health answers anyone, whatever the token', async () => {
    for (const token of [undefined, tokens.alice, 'garbage.token.value']) {
      const response = await gql(url, '{ health }', token === undefined ? {} : { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { health: 'ok' } });
    }
  });

  it.skipIf(skip)('me: null with UNAUTHENTICATED signed out; the user from the Backend API signed in', async () => {
    const anonymous = await gql(url, '{ health me { id } }');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toEqual({ health: 'ok', me: null });
    expect(anonymous.body.errors?.[0]).toMatchObject({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', reason: 'token-missing' } });
    const before = api.count('users.get');
    expect((await gql(url, '{ me { id email } }', { token: tokens.alice })).body).toEqual({ data: { me: { id: 'user_alice', email: 'alice@example.com' } } });
    expect(api.count('users.get')).toBe(before + 1);
  });

  it.skipIf(skip)('createNote: 401 signed out, 403 without the permission, nothing stored; created with it', async () => {
    const before = server.store.count();
    const anonymous = await gql(url, 'mutation { createNote(text: "anonymous") { id } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const member = await gql(url, 'mutation { createNote(text: "member") { id } }', { token: tokens.member });
    expect(member.status).toBe(403);
    expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(codes(member)).toEqual(['FORBIDDEN']);
    expect(server.store.count()).toBe(before);

    const created = await gql(url, 'mutation { createNote(text: "writer note") { id text authorId } }', { token: tokens.writer });
    expect(created.status).toBe(200);
    expect(created.body.data?.createNote).toMatchObject({ text: 'writer note', authorId: 'user_writer' });
    expect(server.store.count()).toBe(before + 1);
  });

  it.skipIf(skip)("notes: the caller's notes; signed out, null propagates to data (non-null list), HTTP 200", async () => {
    expect((await gql(url, '{ notes { text } }', { token: tokens.writer })).body.data?.notes).toContainEqual({ text: 'writer note' });
    expect((await gql(url, '{ notes { text } }', { token: tokens.alice })).body).toEqual({ data: { notes: [] } });
    const anonymous = await gql(url, '{ health notes { id } }');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toBeNull();
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(anonymous.body.errors?.[0]?.path).toEqual(['notes']);
  });

  it.skipIf(skip)('node(id): the note to its author, null to anyone else, nothing of it leaking', async () => {
    const id = (server.store.listBy('user_writer')[0] as { id: string }).id;
    expect((await gql(url, `{ node(id: "${id}") { id ... on Note { text } } }`, { token: tokens.writer })).body).toEqual({ data: { node: { id, text: 'writer note' } } });
    for (const token of [undefined, tokens.bob]) {
      const response = await gql(url, `{ node(id: "${id}") { id ... on Note { text authorId } } }`, token === undefined ? {} : { token });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ node: null });
      expect(JSON.stringify(response.body)).not.toContain('writer note');
    }
  });

  it.skipIf(skip)('adminStats: UNAUTHENTICATED signed out, FORBIDDEN without the role, the count with it', async () => {
    expect(codes(await gql(url, '{ adminStats { notes } }'))).toEqual(['UNAUTHENTICATED']);
    const forbidden = await gql(url, '{ health adminStats { notes } }', { token: tokens.writer });
    expect(forbidden.status).toBe(200);
    expect(forbidden.body.data).toEqual({ health: 'ok', adminStats: null });
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    expect((await gql(url, '{ adminStats { notes } }', { token: tokens.admin })).body).toEqual({ data: { adminStats: { notes: server.store.count() } } });
  });

  it.skipIf(skip)('an expired or forged token: 401 invalid_token, whole, so the client refreshes', async () => {
    const expired = await gql(url, '{ health notes { id } }', { token: tokens.expired });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect(codes(expired)).toEqual(['UNAUTHENTICATED']);
    const forged = await gql(url, '{ notes { id } }', { token: 'garbage.token.value' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it.skipIf(skip || !ws)('noteAdded over graphql-ws: the caller’s notes; anonymous refused; ended when the token expires', async () => {
    const client = wsClient(url, { authorization: `Bearer ${tokens.writer}` });
    const sub = wsCollect(client, 'subscription { noteAdded { text authorId } }', 1);
    await sub.started;
    // Create until the subscription (registered asynchronously) has delivered one.
    let delivered: GraphQLResponse['body'][] | null = null;
    for (let attempt = 0; attempt < 40 && delivered === null; attempt++) {
      await gql(url, 'mutation { createNote(text: "live") { id } }', { token: tokens.writer });
      delivered = await Promise.race([sub.results, new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
    }
    expect(delivered).toEqual([{ data: { noteAdded: { text: 'live', authorId: 'user_writer' } } }]);

    const anonymous = await wsCollect(wsClient(url), 'subscription { noteAdded { id } }').results;
    expect(anonymous[0]?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-missing' });
    expect(JSON.stringify(anonymous)).not.toMatch(/"http"/);

    const shortLived = await issuer.sessionToken({ ...WRITER, expiresInSeconds: -3 });
    const ended = await wsCollect(wsClient(url, { authorization: `Bearer ${shortLived}` }), 'subscription { noteAdded { id } }').results;
    expect(ended.at(-1)?.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token-expired' });
  });

  it.skipIf(skip)('logs one line per request (method, path, status, user or anonymous, ms) and never a token', () => {
    expect(log.some((line) => new RegExp(`^${name} POST /graphql 200 user_writer \\d+\\.\\dms$`).test(line))).toBe(true);
    expect(log.some((line) => new RegExp(`^${name} POST /graphql 401 anonymous \\d+\\.\\dms$`).test(line))).toBe(true);
    expect(log.some((line) => new RegExp(`^${name} POST /graphql 403 user_member `).test(line))).toBe(true);
    const all = log.join('\n');
    for (const token of Object.values(tokens)) expect(all).not.toContain(token);
    expect(all).not.toContain(issuer.secretKey);
  });
});
