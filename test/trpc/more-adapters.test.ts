/**
 * `createClerkContext` on every official tRPC HTTP adapter, each over a real loopback server, with
 * real tokens from the test issuer and the loopback Backend API stand-in: fetch (on `node:http`),
 * standalone, Express, Next.js pages (`createNextApiHandler`), Fastify 5 (`fastifyTRPCPlugin`) and AWS
 * Lambda (`awsLambdaRequestHandler` behind the examples' local API Gateway stand-in, delivering
 * payload v2, v1 and ALB events). Each answers a denial with its status and the headers clients act
 * on, through its own response mechanism (fetch `resHeaders`, `res.setHeader`, `reply.header`, and
 * on Lambda `responseMeta: clerkResponseMeta`):
 *
 * - signed out 401 `Bearer`; expired 401 `invalid_token` / `token-expired`; forbidden 403
 *   `insufficient_scope`; two credentials 400 `invalid_request`; an opaque API key while the Backend
 *   API is down 503 with `Retry-After`; a mixed batch 207 with the batch's one challenge.
 *
 * Then `createClerkFetch` + `httpBatchLink` against the Fastify and Lambda reference servers:
 * an expired token is refreshed once, and the call succeeds.
 */
import { EventEmitter, on } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { awsLambdaRequestHandler } from '@trpc/server/adapters/aws-lambda';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createNextApiHandler } from '@trpc/server/adapters/next';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createClerkFetch } from 'clerk-api-auth/client';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { admittedAuth, clerkProcedures, clerkResponseMeta, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
import { serveLambda, type LambdaEventShape } from '../../examples/trpc-lambda/api-gateway.js';
import { trpcLambdaEvent } from '../../examples/trpc-lambda/handler.js';
import { startTrpcLambdaServer, type TrpcLambdaServer } from '../../examples/trpc-lambda/server.js';
import { startTrpcFastifyServer, type TrpcFastifyServer } from '../../examples/trpc-fastify/server.js';
import { callerName } from '../../examples/shared/caller-name.js';
import { serve } from '../../examples/shared/serve.js';
import type { AppRouter } from '../../examples/trpc/router.js';
import { client } from './helpers.js';

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
  keys: machineProcedure.use(authorize({ token: 'api_key' })).query(({ ctx }) => ctx.auth.subject),
  onTick: protectedProcedure.subscription(async function* ({ ctx, signal }) {
    let n = 0;
    for await (const _ of on(ticks, 'tick', signal ? { signal } : {})) yield { n: n++, userId: ctx.auth.userId };
  }),
});

let issuer: TestIssuer;
let api: FakeClerkApi;
let clerkAuth: ClerkAuth;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  // Session tokens networkless (CLERK_JWT_KEY); opaque machine tokens through the Backend API stand-in.
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 1500 });
});

afterAll(async () => {
  await api?.close();
});

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/**
 * A raw HTTP request through `node:http`, so that header names go out in the case given and a
 * header given as an array goes out as several header lines (fetch would join them into one).
 */
function send(url: string, headers: OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (an event stream)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

const bearer = (token: string): OutgoingHttpHeaders => ({ authorization: `Bearer ${token}` });
const code = (body: unknown) => (body as { error?: { data?: { code?: string } } }).error?.data?.code;
const BATCH = '?batch=1&input=%7B%7D';

interface Adapter {
  name: string;
  /** Starts the server; `url` + `/whoami` is a procedure. */
  start(createContext: ReturnType<typeof createClerkContext>): Promise<{ url: string; stop: () => Promise<void> }>;
  /** Whether the adapter serves SSE subscriptions. */
  sse: boolean;
  /** Whether two `Authorization` header lines reach the function (not behind an ALB with single-value headers). */
  seesRepeatedHeaders: boolean;
}

function lambdaAdapter(shape: LambdaEventShape): Adapter {
  return {
    name: `AWS Lambda (${shape === 'alb' ? 'ALB' : `API Gateway ${shape}`} events)`,
    sse: false,
    seesRepeatedHeaders: shape !== 'alb',
    async start(createContext) {
      const handler = awsLambdaRequestHandler({ router, createContext, responseMeta: clerkResponseMeta });
      const gateway = await serveLambda((event, context) => handler(trpcLambdaEvent(event), context), { port: 0, host: '127.0.0.1', shape });
      return { url: `${gateway.url}/trpc`, stop: () => gateway.close() };
    },
  };
}

const adapters: Adapter[] = [
  {
    name: 'fetch on node:http',
    sse: true,
    seesRepeatedHeaders: true,
    async start(createContext) {
      const served = await serve((req) => fetchRequestHandler({ endpoint: '/trpc', req, router, createContext, responseMeta: clerkResponseMeta }), {
        port: 0,
        host: '127.0.0.1',
        name: 'fetch',
        log: () => {},
      });
      return { url: `${served.url}/trpc`, stop: () => served.close() };
    },
  },
  {
    name: 'standalone',
    sse: true,
    seesRepeatedHeaders: true,
    async start(createContext) {
      const server = createHTTPServer({ router, createContext, responseMeta: clerkResponseMeta });
      const url = await listen(server);
      return { url, stop: () => close(server) };
    },
  },
  {
    name: 'Express',
    sse: true,
    seesRepeatedHeaders: true,
    async start(createContext) {
      const app = express();
      app.use('/trpc', createExpressMiddleware({ router, createContext, responseMeta: clerkResponseMeta }));
      const server = createServer(app);
      const url = await listen(server);
      return { url: `${url}/trpc`, stop: () => close(server) };
    },
  },
  {
    // Next.js routes `pages/api/trpc/[trpc].ts` with `req.query.trpc`; here node:http does, as Next's server would.
    name: 'Next.js pages (createNextApiHandler)',
    sse: true,
    seesRepeatedHeaders: true,
    async start(createContext) {
      const handler = createNextApiHandler({ router, createContext, responseMeta: clerkResponseMeta });
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const query: Record<string, string> = Object.fromEntries(url.searchParams);
        query.trpc = decodeURIComponent(url.pathname.replace(/^\/api\/trpc\//, ''));
        void handler(Object.assign(req, { query, cookies: {}, body: undefined, env: {} }), res);
      });
      const url = await listen(server);
      return { url: `${url}/api/trpc`, stop: () => close(server) };
    },
  },
  {
    name: 'Fastify 5 (fastifyTRPCPlugin)',
    sse: true,
    seesRepeatedHeaders: true,
    async start(createContext) {
      const app = Fastify({ routerOptions: { maxParamLength: 5000 } });
      await app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions: { router, createContext, responseMeta: clerkResponseMeta } });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `${url}/trpc`, stop: () => app.close() };
    },
  },
  lambdaAdapter('v2'),
  lambdaAdapter('v1'),
  lambdaAdapter('alb'),
];

describe.each(adapters)('$name', (adapter) => {
  let url: string;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url, stop } = await adapter.start(createClerkContext(clerkAuth)));
  });
  afterAll(() => stop?.());
  afterEach(() => api.setFault({ mode: 'none' }));

  it('answers a signed-out call 401 with WWW-Authenticate: Bearer, and a signed-in one 200 without it', async () => {
    const signedOut = await send(`${url}/whoami`);
    expect(signedOut.status).toBe(401);
    expect(code(signedOut.body)).toBe('UNAUTHORIZED');
    expect(signedOut.headers['www-authenticate']).toBe('Bearer');
    const signedIn = await send(`${url}/whoami`, bearer(await issuer.sessionToken({ userId: 'user_in' })));
    expect(signedIn).toMatchObject({ status: 200, body: { result: { data: 'user_in' } } });
    expect(signedIn.headers['www-authenticate']).toBeUndefined();
    expect(await send(`${url}/hello`)).toMatchObject({ status: 200, body: { result: { data: { userId: null, reason: 'token-missing' } } } });
  });

  it('answers an expired token 401 invalid_token / token-expired, the challenge createClerkFetch refreshes on', async () => {
    const expired = await send(`${url}/whoami`, bearer(await issuer.sessionToken({ userId: 'user_old', expiresInSeconds: -60 })));
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="token-expired"');
  });

  it('answers a missing role 403 insufficient_scope', async () => {
    const member = await send(`${url}/admin`, bearer(await issuer.sessionToken({ userId: 'user_m', org: { id: 'org_1', role: 'member' } })));
    expect(member.status).toBe(403);
    expect(code(member.body)).toBe('FORBIDDEN');
    expect(member.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    const admin = await send(`${url}/admin`, bearer(await issuer.sessionToken({ userId: 'user_a', org: { id: 'org_1', role: 'admin' } })));
    expect(admin).toMatchObject({ status: 200, body: { result: { data: 'admin' } } });
  });

  it('answers two credentials 400 invalid_request, never picking one', async () => {
    const a = await issuer.sessionToken({ userId: 'user_a' });
    const b = await issuer.sessionToken({ userId: 'user_b' });
    const challenge = 'Bearer error="invalid_request", error_description="multiple-authorization-headers"';
    // One header line holding two credentials (what fetch sends for two appended values).
    const joined = await send(`${url}/whoami`, { authorization: `Bearer ${a}, Bearer ${b}` });
    expect(joined.status).toBe(400);
    expect(joined.headers['www-authenticate']).toBe(challenge);
    // Two header lines.
    const name: string = 'authorization';
    const twoLines = await send(`${url}/whoami`, { [name]: [`Bearer ${a}`, `Bearer ${b}`] });
    if (adapter.seesRepeatedHeaders) {
      expect(twoLines.status).toBe(400);
      expect(twoLines.headers['www-authenticate']).toBe(challenge);
    } else {
      // An ALB with single-value headers hands the function the last value only: it never sees the first.
      expect(twoLines).toMatchObject({ status: 200, body: { result: { data: 'user_b' } } });
    }
  });

  it("answers an opaque API key 503 with Retry-After while Clerk's Backend API is down, and 200 once it is back", async () => {
    const key = issuer.apiKey({ subject: 'user_key_owner' });
    const before = api.count('api_keys.verify');
    api.setFault({ mode: 'down' });
    const down = await send(`${url}/keys`, bearer(key.token));
    expect(down.status).toBe(503);
    expect(code(down.body)).toBe('SERVICE_UNAVAILABLE');
    expect(down.headers['retry-after']).toBe('1');
    expect(api.count('api_keys.verify')).toBeGreaterThan(before);
    api.setFault({ mode: 'none' });
    expect(await send(`${url}/keys`, bearer(key.token))).toMatchObject({ status: 200, body: { result: { data: 'user_key_owner' } } });
    // The same key on a public procedure costs no Backend API call.
    const calls = api.count('api_keys.verify');
    expect(await send(`${url}/hello`, bearer(key.token))).toMatchObject({ status: 200, body: { result: { data: { userId: null } } } });
    expect(api.count('api_keys.verify')).toBe(calls);
  });

  it('answers a mixed batch 207 with the one challenge of its denials', async () => {
    const signedOut = await send(`${url}/hello,whoami,admin${BATCH}`);
    expect(signedOut.status).toBe(207);
    expect(signedOut.headers['www-authenticate']).toBe('Bearer');
    expect(signedOut.body).toMatchObject([
      { result: { data: { userId: null } } },
      { error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } },
      { error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } },
    ]);
    const member = await send(`${url}/whoami,admin,hello${BATCH}`, bearer(await issuer.sessionToken({ userId: 'user_m', org: { id: 'org_1', role: 'member' } })));
    expect(member.status).toBe(207);
    expect(member.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(member.body).toMatchObject([{ result: { data: 'user_m' } }, { error: { data: { code: 'FORBIDDEN', httpStatus: 403 } } }, { result: { data: { userId: 'user_m' } } }]);
  });

});

describe.each(adapters.filter((adapter) => adapter.sse))('$name: SSE subscriptions', (adapter) => {
  let url: string;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url, stop } = await adapter.start(createClerkContext(clerkAuth)));
  });
  afterAll(() => stop?.());

  it('answers a refused subscription 401 to a plain client, and streams to a signed-in EventSource', async () => {
    const plain = await send(`${url}/onTick`);
    expect(plain.status).toBe(401);
    expect(plain.headers['www-authenticate']).toBe('Bearer');
    const controller = new AbortController();
    const token = await issuer.sessionToken({ userId: 'user_sse' });
    const stream = await fetch(`${url}/onTick`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"userId":"user_sse"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('"userId":"user_sse"');
  });
});

describe('AWS Lambda: what the event carries', () => {
  describe.each(['v2', 'v1', 'alb'] as const)('%s events', (shape) => {
    let url: string;
    let stop: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ url, stop } = await lambdaAdapter(shape).start(createClerkContext(clerkAuth)));
    });
    afterAll(() => stop?.());

    it('reads Authorization in any case of name and scheme', async () => {
      const token = await issuer.sessionToken({ userId: 'user_case' });
      expect(await send(`${url}/whoami`, { AUTHORIZATION: `bEaReR ${token}` })).toMatchObject({ status: 200, body: { result: { data: 'user_case' } } });
      expect(await send(`${url}/whoami`, { Authorization: `Bearer ${token}` })).toMatchObject({ status: 200, body: { result: { data: 'user_case' } } });
    });

    it('reads a same-origin __session cookie (v2: from the event\'s `cookies`), and never a cross-site one', async () => {
      const token = await issuer.sessionToken({ userId: 'user_cookie' });
      const host = new URL(url).host;
      const cookie = `theme=dark; __session=${token}; __client_uat=1`;
      expect(await send(`${url}/whoami`, { Cookie: cookie })).toMatchObject({ status: 200, body: { result: { data: 'user_cookie' } } });
      expect(await send(`${url}/whoami`, { Cookie: cookie, Origin: `http://${host}` })).toMatchObject({ status: 200, body: { result: { data: 'user_cookie' } } });
      const crossSite = await send(`${url}/whoami`, { Cookie: cookie, Origin: 'https://evil.example' });
      expect(crossSite.status).toBe(401);
      expect(crossSite.headers['www-authenticate']).toBe('Bearer');
    });
  });

  it.each(['v2', 'v1', 'alb'] as const)('%s: hostile requests get 4xx, never a 5xx', async (shape) => {
    const { url, stop: stopGateway } = await lambdaAdapter(shape).start(createClerkContext(clerkAuth));
    try {
      expect((await send(`${url}/whoami`, { host: 'not a host' })).status).toBe(400);
      expect((await send(`${url}/%E0%A4%A`, {})).status).toBe(400);
      expect((await send(`${url}/whoami`, { authorization: 'Bearer' })).status).toBe(400);
      expect((await send(`${url}/whoami`, { authorization: `Bearer ${'x'.repeat(9000)}` })).status).toBe(401);
      expect((await send(`${url}/whoami`, { authorization: `Bearer ${'x'.repeat(20_000)}` })).status).toBe(431);
      expect((await send(`${url.replace(/\/trpc$/, '')}/other`, {})).status).toBe(404);
    } finally {
      await stopGateway();
    }
  });

  it('without responseMeta: clerkResponseMeta, the 401 has no challenge, and the context says so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const handler = awsLambdaRequestHandler({ router, createContext: createClerkContext(clerkAuth) });
    const gateway = await serveLambda((event, context) => handler(trpcLambdaEvent(event), context), { port: 0, host: '127.0.0.1', shape: 'v2' });
    try {
      const first = await send(`${gateway.url}/trpc/whoami`);
      expect(first.status).toBe(401);
      expect(first.headers['www-authenticate']).toBeUndefined();
      expect(warn).not.toHaveBeenCalled();
      await send(`${gateway.url}/trpc/whoami`);
      await send(`${gateway.url}/trpc/hello`);
      const ours = warn.mock.calls.filter(([message]) => String(message).includes('clerkResponseMeta'));
      expect(ours).toHaveLength(1);
      expect(String(ours[0]?.[0])).toContain('responseMeta: clerkResponseMeta');
    } finally {
      warn.mockRestore();
      await gateway.close();
    }
  });

  it('with clerkResponseMeta composed into a responseMeta of its own, both sets of headers go out', async () => {
    const handler = awsLambdaRequestHandler({
      router,
      createContext: createClerkContext(clerkAuth),
      responseMeta(opts) {
        const clerk = clerkResponseMeta(opts);
        const headers = new Headers(clerk.headers);
        headers.set('cache-control', 'no-store');
        return { ...clerk, headers };
      },
    });
    const gateway = await serveLambda((event, context) => handler(trpcLambdaEvent(event), context), { port: 0, host: '127.0.0.1', shape: 'v1' });
    try {
      const expired = await send(`${gateway.url}/trpc/whoami`, bearer(await issuer.sessionToken({ expiresInSeconds: -60 })));
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="token-expired"');
      expect(expired.headers['cache-control']).toBe('no-store');
      const fine = await send(`${gateway.url}/trpc/hello`);
      expect(fine.status).toBe(200);
      expect(fine.headers['www-authenticate']).toBeUndefined();
      expect(fine.headers['cache-control']).toBe('no-store');
    } finally {
      await gateway.close();
    }
  });
});

describe('admittedAuth: who the guards admitted, for access logs', () => {
  it('is the machine behind a machine guard, the session behind a session guard, and ctx.auth when no guard ran', async () => {
    const seen: Array<string | null> = [];
    const createContext = createClerkContext(clerkAuth);
    const handle = (req: Request) =>
      fetchRequestHandler({
        endpoint: '/trpc',
        req,
        router,
        createContext,
        responseMeta(opts) {
          const auth = opts.ctx === undefined ? undefined : admittedAuth(opts.ctx);
          seen.push(auth === undefined ? 'no context' : auth.isAuthenticated ? `${auth.tokenType}:${callerName(auth)}` : null);
          return clerkResponseMeta(opts);
        },
      });
    const key = issuer.apiKey({ subject: 'user_key' });
    const session = await issuer.sessionToken({ userId: 'user_s' });
    const at = (path: string, token?: string) => new Request(`http://localhost/trpc/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await handle(at('keys', key.token))).status).toBe(200);
    expect((await handle(at('whoami', session))).status).toBe(200);
    expect((await handle(at('hello', session))).status).toBe(200);
    expect((await handle(at('hello', key.token))).status).toBe(200);
    expect((await handle(at('whoami'))).status).toBe(401);
    expect(seen).toEqual(['api_key:user_key', 'session_token:user_s', 'session_token:user_s', null, null]);
  });
});

describe('createClerkFetch + httpBatchLink against the Fastify and Lambda reference servers', () => {
  const servers: Array<{ name: string; url: string; close: () => Promise<void> }> = [];

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { CLERK_JWT_KEY: issuer.jwtKey, CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000' };
    const quiet = () => {};
    const fastify: TrpcFastifyServer = await startTrpcFastifyServer({ port: 0, host: '127.0.0.1', env, log: quiet });
    servers.push({ name: 'trpc-fastify', url: fastify.url, close: () => fastify.close() });
    for (const shape of ['v2', 'v1', 'alb'] as const) {
      const lambda: TrpcLambdaServer = await startTrpcLambdaServer({ port: 0, host: '127.0.0.1', shape, env, log: quiet });
      servers.push({ name: `trpc-lambda ${shape}`, url: lambda.url, close: () => lambda.close() });
    }
  });
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  it.each(['trpc-fastify', 'trpc-lambda v2', 'trpc-lambda v1', 'trpc-lambda alb'])('%s: an expired token is refreshed once and the calls succeed', async (name) => {
    const server = servers.find((candidate) => candidate.name === name);
    if (server === undefined) throw new Error(`${name} did not start`);
    const WRITER = { userId: 'user_refresh', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } } as const;
    // Clerk's getToken: a cached token that has expired, and a fresh one when asked to skip the cache.
    const asked: boolean[] = [];
    let cached: Promise<string> = issuer.sessionToken({ ...WRITER, expiresInSeconds: -60 });
    const getToken = (options?: { skipCache?: boolean }): Promise<string> => {
      asked.push(options?.skipCache === true);
      if (options?.skipCache === true) cached = issuer.sessionToken({ ...WRITER, expiresInSeconds: 60 });
      return cached;
    };
    const statuses: number[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: server.url, fetch: createClerkFetch({ getToken, fetch: recording }) })] });
    const [who, note] = await Promise.all([trpc.whoami.query(), trpc.notes.list.query()]);
    expect(who.userId).toBe('user_refresh');
    expect(note).toEqual([]);
    expect(statuses).toEqual([401, 200]);
    expect(asked).toEqual([false, true]);
    const created = await trpc.notes.create.mutate({ text: 'through the refreshed token' });
    expect(created).toMatchObject({ text: 'through the refreshed token', authorId: 'user_refresh' });
    expect(statuses).toEqual([401, 200, 200]);
  });

  it('trpc-fastify: hostile requests get 4xx, never a 5xx', async () => {
    const server = servers.find((candidate) => candidate.name === 'trpc-fastify');
    if (server === undefined) throw new Error('trpc-fastify did not start');
    expect((await send(`${server.url}/whoami`, { host: 'not a host' })).status).toBe(400);
    expect((await send(`${server.url}/%E0%A4%A`, {})).status).toBe(400);
    expect((await send(`${server.url}/whoami`, { authorization: 'Bearer' })).status).toBe(400);
    expect((await send(`${server.url}/whoami`, { authorization: `Bearer ${'x'.repeat(9000)}` })).status).toBe(401);
    expect((await send(`${server.url}/whoami`, { authorization: `Bearer ${'x'.repeat(20_000)}` })).status).toBe(431);
    // A batch of 400 calls names them all in the path (Fastify's default limit is 100 characters).
    const batch = await send(`${server.url}/${Array(400).fill('health').join(',')}${BATCH}`);
    expect(batch.status).toBe(200);
    expect(batch.body).toHaveLength(400);
  });

  it("trpc-fastify: notes.onAdded streams the caller's new notes over SSE (httpSubscriptionLink + EventSource)", async () => {
    const server = servers.find((candidate) => candidate.name === 'trpc-fastify');
    if (server === undefined) throw new Error('trpc-fastify did not start');
    const token = await issuer.sessionToken({ userId: 'user_sse', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } });
    const trpc = client(server.url, token);
    const received: Array<{ text: string; authorId: string }> = [];
    let failed: unknown;
    const subscription = trpc.notes.onAdded.subscribe(undefined, { onData: (note) => void received.push(note), onError: (error) => (failed = error) });
    try {
      // The subscription is live once a note created now arrives; create until one does.
      const started = Date.now();
      while (received.length === 0 && failed === undefined) {
        if (Date.now() - started > 10_000) throw new Error('timed out waiting for a note over SSE');
        await trpc.notes.create.mutate({ text: 'live' });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(failed).toBeUndefined();
      expect(received[0]).toMatchObject({ text: 'live', authorId: 'user_sse' });
    } finally {
      subscription.unsubscribe();
    }
  });

  it.each(['trpc-lambda v2', 'trpc-lambda v1', 'trpc-lambda alb'])('%s: a subscription is refused as not supported (a buffered Lambda response never ends), never left hanging', async (name) => {
    const server = servers.find((candidate) => candidate.name === name);
    if (server === undefined) throw new Error(`${name} did not start`);
    const answer = await send(`${server.url}/notes.onAdded`, bearer(await issuer.sessionToken({ userId: 'user_sub' })));
    expect(answer.status).toBe(200);
    expect(String(answer.body)).toContain('"code":"METHOD_NOT_SUPPORTED"');
  });
});
