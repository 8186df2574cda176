/**
 * `createClerkContext` under every tRPC adapter, each over a real loopback connection: standalone
 * and Express (Node `IncomingMessage` + `res.setHeader`), fetch (one authentication per batch), and
 * WebSocket (`applyWSSHandler`: connectionParams, the upgrade request, expiry, reconnection).
 */
import { EventEmitter, on } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createTRPCClient, createWSClient, httpSubscriptionLink, wsLink, type TRPCClientError } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { EventSource } from 'eventsource';
import express from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkProcedures, clerkResponseMeta, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { rejection, until } from './helpers.js';

const SKEW_MS = 100;
const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ isDev: false });
const { publicProcedure, protectedProcedure, machineProcedure, authorize } = clerkProcedures(t);
const ticks = new EventEmitter();
ticks.setMaxListeners(0);
const ticker = setInterval(() => ticks.emit('tick'), 25);
ticker.unref();

const router = t.router({
  hello: publicProcedure.query(({ ctx }) => ({ userId: ctx.auth.userId, reason: ctx.signedOutReason })),
  whoami: protectedProcedure.query(({ ctx }) => ctx.auth.userId),
  admin: protectedProcedure.use(authorize({ role: 'org:admin' })).query(() => 'admin'),
  machine: machineProcedure.query(({ ctx }) => ctx.auth.subject),
  onTick: protectedProcedure.subscription(async function* ({ ctx, signal }) {
    let n = 0;
    for await (const _ of on(ticks, 'tick', signal ? { signal } : {})) yield { n: n++, userId: ctx.auth.userId };
  }),
});
type Router = typeof router;

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let authentications = 0;
/** The same ClerkAuth, counting `authenticate` calls. */
let counting: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ jwtKey: issuer.jwtKey, env: {}, clockSkewInMs: SKEW_MS });
  counting = {
    ...clerkAuth,
    authenticate: (input, options) => {
      authentications += 1;
      return clerkAuth.authenticate(input, options);
    },
  };
});

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function raw(url: string, token?: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { ...headers, ...(token !== undefined && { authorization: `Bearer ${token}` }) } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

/** The same HTTP checks against a Node adapter. */
function nodeAdapterSuite(name: string, start: () => Promise<{ url: string; stop: () => Promise<void> }>) {
  describe(`${name} adapter over HTTP`, () => {
    let url: string;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ url, stop } = await start());
    });
    afterAll(() => stop?.());

    it('answers 401 with WWW-Authenticate set through res.setHeader, and 200 when signed in', async () => {
      const signedOut = await raw(`${url}/whoami`);
      expect(signedOut.status).toBe(401);
      expect(signedOut.headers.get('www-authenticate')).toBe('Bearer');
      const broken = await raw(`${url}/whoami`, 'a.b.c');
      expect(broken.status).toBe(401);
      expect(broken.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-invalid"');
      const signedIn = await raw(`${url}/whoami`, await issuer.sessionToken({ userId: 'user_node' }));
      expect(signedIn).toMatchObject({ status: 200, body: { result: { data: 'user_node' } } });
      expect(signedIn.headers.get('www-authenticate')).toBeNull();
    });

    it('answers 403 FORBIDDEN for a missing role and 200 with it', async () => {
      const member = await raw(`${url}/admin`, await issuer.sessionToken({ userId: 'u', org: { id: 'org_1', role: 'member' } }));
      expect(member.status).toBe(403);
      expect(member.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      const admin = await raw(`${url}/admin`, await issuer.sessionToken({ userId: 'u', org: { id: 'org_1', role: 'admin' } }));
      expect(admin).toMatchObject({ status: 200, body: { result: { data: 'admin' } } });
    });

    it('authenticates once per request however many calls a batch holds', async () => {
      const token = await issuer.sessionToken({ userId: 'user_batch' });
      const before = authentications;
      const res = await raw(`${url}/hello,whoami,admin,whoami,hello?batch=1&input=%7B%7D`, token);
      expect(authentications - before).toBe(1);
      expect(res.status).toBe(207);
      expect(res.body).toMatchObject([
        { result: { data: { userId: 'user_batch', reason: null } } },
        { result: { data: 'user_batch' } },
        { error: { data: { code: 'FORBIDDEN' } } },
        { result: { data: 'user_batch' } },
        { result: { data: { userId: 'user_batch' } } },
      ]);
    });

    it('accepts machine tokens only where a guard asks for them', async () => {
      const m2m = await issuer.m2mToken({ machineId: 'mch_1' });
      expect(await raw(`${url}/machine`, m2m)).toMatchObject({ status: 200, body: { result: { data: 'mch_1' } } });
      expect((await raw(`${url}/whoami`, m2m)).status).toBe(401);
      expect(await raw(`${url}/hello`, m2m)).toMatchObject({ status: 200, body: { result: { data: { userId: null, reason: 'token-type-mismatch' } } } });
      expect((await raw(`${url}/machine`, await issuer.sessionToken())).status).toBe(401);
    });
  });
}

nodeAdapterSuite('standalone', async () => {
  const server = createHTTPServer({ router, createContext: createClerkContext(counting) });
  const url = await listen(server);
  return { url, stop: () => close(server) };
});

nodeAdapterSuite('Express', async () => {
  const app = express();
  app.use('/trpc', createExpressMiddleware({ router, createContext: createClerkContext(counting) }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/trpc`;
  return { url, stop: () => close(server) };
});

describe('fetch adapter', () => {
  it('sets WWW-Authenticate through resHeaders and authenticates a batch once', async () => {
    const createContext = createClerkContext(counting);
    const before = authentications;
    const response = await fetchRequestHandler({
      endpoint: '/trpc',
      router,
      createContext,
      req: new Request('http://localhost/trpc/hello,whoami,admin?batch=1&input=%7B%7D', { headers: { authorization: 'Bearer expired.or.not' } }),
    });
    expect(authentications - before).toBe(1);
    expect(response.status).toBe(207);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token-invalid"');
  });

  it("answers 503 SERVICE_UNAVAILABLE with Retry-After when Clerk's Backend API cannot be reached to verify", async () => {
    const api = await startFakeClerkApi({ issuer });
    try {
      api.setFault({ mode: 'down' });
      const secretOnly = createClerkContext({ secretKey: issuer.secretKey, apiUrl: api.apiUrl, env: {}, apiTimeoutMs: 2000 });
      const req = new Request('http://localhost/trpc/hello,whoami?batch=1&input=%7B%7D', { headers: { authorization: `Bearer ${await issuer.sessionToken()}` } });
      const response = await fetchRequestHandler({ endpoint: '/trpc', router, createContext: secretOnly, req });
      expect(response.status).toBe(207);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject([
        { result: { data: { userId: null, reason: 'clerk-api-unavailable' } } },
        { error: { data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } } },
      ]);
      expect(api.count('jwks')).toBeGreaterThan(0);
    } finally {
      await api.close();
    }
  });
});

describe('SSE subscriptions with connectionParams (httpSubscriptionLink)', () => {
  let url: string;
  let server: Server;
  beforeAll(async () => {
    server = createHTTPServer({ router, createContext: createClerkContext(clerkAuth), responseMeta: clerkResponseMeta });
    url = await listen(server);
  });
  afterAll(() => close(server));

  it('with clerkResponseMeta, answers a refused subscription 401 to a plain client and 200 to an EventSource', async () => {
    const plain = await fetch(`${url}/onTick`);
    expect(plain.status).toBe(401);
    expect(plain.headers.get('www-authenticate')).toBe('Bearer');
    await plain.body?.cancel();
    const eventSource = await fetch(`${url}/onTick`, { headers: { accept: 'text/event-stream' } });
    expect(eventSource.status).toBe(200);
    expect(await eventSource.text()).toContain('"code":"UNAUTHORIZED"');
  });

  it('reads the token from connectionParams, and ends with UNAUTHORIZED at expiry', async () => {
    const token = await issuer.sessionToken({ userId: 'user_sse', expiresInSeconds: 2 });
    const trpc = createTRPCClient<Router>({ links: [httpSubscriptionLink({ url, EventSource, connectionParams: async () => ({ token }) })] });
    const data: Array<{ userId: string }> = [];
    let ended: TRPCClientError<Router> | undefined;
    const sub = trpc.onTick.subscribe(undefined, { onData: (value) => data.push(value), onError: (error) => (ended = error) });
    try {
      await until(() => data.length > 0, 10_000, 'a tick');
      expect(data[0]).toEqual({ n: 0, userId: 'user_sse' });
      await until(() => ended !== undefined, 15_000, 'the subscription to end');
      expect(ended?.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
      expect(ended?.message).toContain('token-expired');
    } finally {
      sub.unsubscribe();
    }
  });

  it('refuses a request that carries both an Authorization header and a connectionParams token', async () => {
    const a = await issuer.sessionToken({ userId: 'user_a' });
    const b = await issuer.sessionToken({ userId: 'user_b' });
    const params = encodeURIComponent(JSON.stringify({ token: b }));
    const res = await raw(`${url}/whoami?connectionParams=${params}`, a);
    // Two credentials are the request's fault (RFC 6750 §3.1 invalid_request), not a token to refresh.
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_request", error_description="multiple-authorization-headers"');
    expect(await raw(`${url}/whoami?connectionParams=${params}`)).toMatchObject({ status: 200, body: { result: { data: 'user_b' } } });
  });
});

describe('WebSocket adapter (applyWSSHandler + wsLink)', () => {
  let wss: WebSocketServer;
  let url: string;
  const sockets: Array<ReturnType<typeof createWSClient>> = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    applyWSSHandler({ wss, router, createContext: createClerkContext(clerkAuth) });
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  function wsClient(options: { connectionParams?: () => Promise<Record<string, string>>; headers?: Record<string, string> }) {
    const headers = options.headers;
    class HeaderWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, headers ? { headers } : {});
      }
    }
    const socket = createWSClient({
      url,
      WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
      retryDelayMs: () => 50,
      ...(options.connectionParams && { connectionParams: options.connectionParams }),
    });
    sockets.push(socket);
    return createTRPCClient<Router>({ links: [wsLink({ client: socket })] });
  }

  it('authenticates with connectionParams.token, and answers UNAUTHORIZED without one', async () => {
    const token = await issuer.sessionToken({ userId: 'user_ws' });
    expect(await wsClient({ connectionParams: async () => ({ token }) }).whoami.query()).toBe('user_ws');
    const anonymous = wsClient({ connectionParams: async () => ({}) });
    expect(await anonymous.hello.query()).toEqual({ userId: null, reason: 'token-missing' });
    expect((await rejection(anonymous.whoami.query())).data).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('falls back to the upgrade request, and refuses two different credentials', async () => {
    const token = await issuer.sessionToken({ userId: 'user_upgrade' });
    expect(await wsClient({ headers: { authorization: `Bearer ${token}` } }).whoami.query()).toBe('user_upgrade');
    const other = await issuer.sessionToken({ userId: 'user_other' });
    const both = wsClient({ headers: { authorization: `Bearer ${token}` }, connectionParams: async () => ({ token: other }) });
    const error = await rejection(both.whoami.query());
    expect(error.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(error.message).toContain('multiple-authorization-headers');
  });

  it('ends a subscription with UNAUTHORIZED when its token expires, even on a connection that stays open', async () => {
    const token = await issuer.sessionToken({ userId: 'user_expiring', expiresInSeconds: 2 });
    const trpc = wsClient({ connectionParams: async () => ({ token }) });
    const data: unknown[] = [];
    let ended: TRPCClientError<Router> | undefined;
    const sub = trpc.onTick.subscribe(undefined, { onData: (value) => data.push(value), onError: (error) => (ended = error) });
    try {
      await until(() => data.length > 0, 10_000, 'a tick');
      await until(() => ended !== undefined, 15_000, 'the subscription to end');
      expect(ended?.data).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(ended?.message).toContain('token-expired');
      // The connection outlives the token: guarded calls answer 401, public ones see the caller signed out.
      expect((await rejection(trpc.whoami.query())).data).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await trpc.hello.query()).toEqual({ userId: null, reason: 'token-expired' });
    } finally {
      sub.unsubscribe();
    }
  });

  it('moves subscriptions to a fresh connection when connectionParams is an async getter', async () => {
    const minted: number[] = [];
    const connectionParams = async () => {
      const token = await issuer.sessionToken({ userId: 'user_refresh', expiresInSeconds: 2 });
      minted.push(Date.now());
      return { token };
    };
    const trpc = wsClient({ connectionParams });
    const data: Array<{ userId: string }> = [];
    let ended: unknown;
    const sub = trpc.onTick.subscribe(undefined, { onData: (value) => data.push(value), onError: (error) => (ended = error) });
    try {
      await until(() => data.length > 0, 10_000, 'a tick');
      const firstDeadline = (minted[0] ?? 0) + 2000 + SKEW_MS;
      await until(() => Date.now() > firstDeadline + 200, 10_000, 'the first token to expire');
      const seen = data.length;
      await until(() => data.length > seen + 3 || ended !== undefined, 10_000, 'more ticks');
      expect(ended).toBeUndefined();
      expect(minted.length).toBeGreaterThanOrEqual(2);
      expect(data.every((tick) => tick.userId === 'user_refresh')).toBe(true);
      expect(await trpc.whoami.query()).toBe('user_refresh');
    } finally {
      sub.unsubscribe();
    }
  });
});
