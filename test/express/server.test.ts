/**
 * examples/express over real loopback HTTP (and WebSocket): one Express server hosting the reference
 * tRPC router, the reference GraphQL schema and a verified Clerk webhook route, configured only from
 * environment variables, with tokens and webhook deliveries from the offline test issuer.
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startExpressServer, type ExpressServer } from '../../examples/express/server.js';
import type { AppRouter } from '../../examples/trpc/server.js';

const ALICE = { userId: 'user_alice' } as const;
const MEMBER = { userId: 'user_member', org: { id: 'org_1', role: 'member' } } as const;
const WRITER = { userId: 'user_writer', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: ExpressServer;
const log: string[] = [];
const tokens: Record<'alice' | 'member' | 'writer', string> = { alice: '', member: '', writer: '' };

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }, { id: 'user_writer', email: 'writer@example.com' }] });
  server = await startExpressServer({
    port: 0,
    env: {
      CLERK_JWT_KEY: issuer.jwtKey,
      CLERK_SECRET_KEY: issuer.secretKey,
      CLERK_API_URL: api.apiUrl,
      CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
      CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret,
    },
    log: (line) => log.push(line),
  });
  tokens.alice = await issuer.sessionToken({ ...ALICE, expiresInSeconds: 600 });
  tokens.member = await issuer.sessionToken({ ...MEMBER, expiresInSeconds: 600 });
  tokens.writer = await issuer.sessionToken({ ...WRITER, expiresInSeconds: 600 });
});

afterAll(async () => {
  await server?.close();
  await api?.close();
});

async function call(path: string, options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body !== undefined && { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as unknown };
}

describe('tRPC at /trpc (createExpressMiddleware)', () => {
  it('public, signed out, signed in, forbidden', async () => {
    expect(await call('/trpc/health')).toMatchObject({ status: 200, body: { result: { data: { ok: true } } } });
    const signedOut = await call('/trpc/whoami');
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
    expect(await call('/trpc/whoami', { token: tokens.alice })).toMatchObject({ status: 200, body: { result: { data: { userId: 'user_alice' } } } });
    const forbidden = await call('/trpc/admin.stats', { token: tokens.member });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { data: { code: 'FORBIDDEN' } } });
  });

  it('an expired token is 401 invalid_token, never anonymous', async () => {
    const expired = await issuer.sessionToken({ ...ALICE, expiresInSeconds: -60 });
    const response = await call('/trpc/whoami', { token: expired });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-expired"');
    expect((await call('/trpc/health', { token: expired })).status).toBe(200);
  });

  it('ctx.clerk reaches the Backend API', async () => {
    expect(await call('/trpc/me', { token: tokens.alice })).toMatchObject({ status: 200, body: { result: { data: { id: 'user_alice', email: 'alice@example.com' } } } });
  });
});

describe('GraphQL at /graphql (Yoga mounted in Express)', () => {
  it('shares the notes store with tRPC: a note created over tRPC is listed over GraphQL', async () => {
    const created = await call('/trpc/notes.create', { token: tokens.writer, body: { text: 'from tRPC' } });
    expect(created.status).toBe(200);
    const listed = await call('/graphql', { token: tokens.writer, body: { query: '{ notes { text authorId } me { email } }' } });
    expect(listed).toMatchObject({ status: 200, body: { data: { notes: [{ text: 'from tRPC', authorId: 'user_writer' }], me: { email: 'writer@example.com' } } } });
  });

  it('a signed-out mutation is refused whole with 401; a member without the permission with 403', async () => {
    const signedOut = await call('/graphql', { body: { query: 'mutation { createNote(text: "x") { id } }' } });
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
    expect(signedOut.body).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const forbidden = await call('/graphql', { token: tokens.member, body: { query: 'mutation { createNote(text: "x") { id } }' } });
    expect(forbidden.status).toBe(403);
  });

  it('a query gets partial data with an error at each denied field', async () => {
    const response = await call('/graphql', { token: tokens.alice, body: { query: '{ health adminStats { notes } }' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      data: { health: 'ok', adminStats: null },
      errors: [expect.objectContaining({ path: ['adminStats'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })],
    });
  });
});

describe('tRPC over WebSocket at /trpc (applyWSSHandler on the same port)', () => {
  it('authenticates from connectionParams.token; other upgrade paths are refused', async () => {
    const wsClient = createWSClient({
      url: `${server.url.replace(/^http/, 'ws')}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: async () => ({ token: tokens.alice }),
    });
    try {
      const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
      expect((await trpc.whoami.query()).userId).toBe('user_alice');
    } finally {
      await wsClient.close();
    }
    const refused = await new Promise<string>((resolve) => {
      const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/elsewhere`);
      socket.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      socket.once('error', (error) => resolve(error.message));
    });
    expect(refused).toContain('404');
  });
});

describe('Clerk webhooks at POST /webhooks/clerk (verified with @clerk/backend/webhooks)', () => {
  const created = {
    type: 'user.created',
    data: { id: 'user_new', primary_email_address_id: 'idn_1', email_addresses: [{ id: 'idn_1', email_address: 'new@example.com' }] },
  } as const;

  async function deliver(delivery: { headers: Record<string, string>; body: string }, headers: Record<string, string> = {}) {
    return call('/webhooks/clerk', { body: delivery.body, headers: { ...delivery.headers, ...headers } });
  }

  it('a valid delivery is processed: the user is mirrored', async () => {
    const response = await deliver(await issuer.signWebhook(created));
    expect(response).toMatchObject({ status: 200, body: { received: true } });
    expect(server.users.get('user_new')).toEqual({ id: 'user_new', email: 'new@example.com' });
  });

  it('a tampered delivery is refused with 400 and changes nothing', async () => {
    const delivery = await issuer.signWebhook({ ...created, data: { ...created.data, id: 'user_tampered' } });
    const response = await deliver({ ...delivery, body: delivery.body.replace('new@example.com', 'attacker@example.com') });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_webhook' });
    expect(server.users.get('user_tampered')).toBeUndefined();
  });

  it('a replayed delivery with a stale timestamp is refused with 400', async () => {
    const stale = await issuer.signWebhook({ type: 'user.deleted', data: { id: 'user_new', deleted: true, object: 'user' } }, { signedAt: new Date(Date.now() - 10 * 60_000) });
    const response = await deliver(stale);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_webhook', message: expect.stringContaining('timestamp too old') });
    expect(server.users.get('user_new')).toBeDefined();
  });

  it('a redelivery of a processed message (same svix-id, fresh signature) is acknowledged, not processed twice', async () => {
    const first = await issuer.signWebhook({ type: 'user.updated', data: { id: 'user_twice', primary_email_address_id: null, email_addresses: [] } });
    expect((await deliver(first)).body).toEqual({ received: true, duplicate: false });
    const redelivery = await issuer.signWebhook({ type: 'user.updated', data: { id: 'user_twice', primary_email_address_id: null, email_addresses: [] } }, { id: first.id });
    expect(await deliver(redelivery)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    expect(log.filter((line) => line === 'express webhook user.updated user_twice')).toHaveLength(1);
  });

  it('a delivery signed with another secret, or unsigned, is refused', async () => {
    const other = await createTestIssuer();
    expect((await deliver(await other.signWebhook(created))).status).toBe(400);
    const unsigned = await call('/webhooks/clerk', { body: JSON.stringify(created) });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body).toMatchObject({ message: expect.stringContaining('svix-id') });
  });

  it('without CLERK_WEBHOOK_SIGNING_SECRET the route answers 501 naming it (and says so at startup)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bare = await startExpressServer({ port: 0, env: { CLERK_JWT_KEY: issuer.jwtKey }, log: () => {} });
    try {
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('CLERK_WEBHOOK_SIGNING_SECRET'));
      const delivery = await issuer.signWebhook(created);
      const response = await fetch(`${bare.url}/webhooks/clerk`, { method: 'POST', headers: delivery.headers, body: delivery.body });
      expect(response.status).toBe(501);
      expect(await response.text()).toContain('CLERK_WEBHOOK_SIGNING_SECRET');
    } finally {
      warn.mockRestore();
      await bare.close();
    }
  });
});

describe('access log', () => {
  it('one line per request with the caller or anonymous, never a token', () => {
    expect(log.some((line) => /^express GET \/trpc\/whoami 200 user_alice [\d.]+ms$/.test(line))).toBe(true);
    expect(log.some((line) => /^express POST \/graphql 200 user_writer [\d.]+ms$/.test(line))).toBe(true);
    expect(log.some((line) => /^express POST \/webhooks\/clerk 400 anonymous [\d.]+ms$/.test(line))).toBe(true);
    const all = log.join('\n');
    for (const token of Object.values(tokens)) expect(all).not.toContain(token);
    expect(all).not.toContain(issuer.webhookSigningSecret);
  });
});
