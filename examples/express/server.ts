/**
 * One Express server hosting all three: the reference app's tRPC router at `/trpc` (HTTP, SSE, and
 * WebSocket for `wsLink`), its GraphQL Yoga schema at `/graphql`, and a verified Clerk webhook route
 * at `POST /webhooks/clerk`. One `ClerkAuth` and one notes store are shared by tRPC and GraphQL, so
 * a note created through one is visible through the other. Configured only from the environment:
 * `CLERK_SECRET_KEY` and/or `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`,
 * `CLERK_API_URL`, `CLERK_WEBHOOK_SIGNING_SECRET`, `REDIS_URL` (instances share machine-token
 * verifications and webhook idempotency), `PORT` (default 4003).
 *
 *   npm run example:express
 *
 * `startExpressServer({ port, env })` starts the same server in-process (tests use it).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { WebhookEvent } from '@clerk/backend/webhooks';
import { createExpressMiddleware, type CreateExpressContextOptions } from '@trpc/server/adapters/express';
import { applyWSSHandler, type CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import express, { type NextFunction, type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { clerkResponseMeta, createClerkContext } from 'clerk-api-auth/trpc';
import { createNotesSchema } from '../graphql-yoga/schema.js';
import { loadClerk, type ClerkSetup } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { appRouter } from '../trpc/router.js';
import type { AppContext } from '../trpc/trpc.js';
import { clerkWebhookHandler } from './webhooks.js';

export interface ExpressServerOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` from `env`, else 4003. */
  port?: number;
  /** Where configuration comes from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Access-log sink. Default `console.log`. */
  log?: (line: string) => void;
}

/** What the webhook route learned: users as Clerk last described them (a local mirror, e.g. for joins). */
export interface UserMirror {
  get(id: string): { id: string; email: string | null } | undefined;
  readonly size: number;
}

export interface ExpressServer {
  /** Base URL, e.g. `http://127.0.0.1:4003`; tRPC at `/trpc`, GraphQL at `/graphql`, webhooks at `/webhooks/clerk`. */
  url: string;
  port: number;
  clerk: ClerkSetup;
  notes: NotesStore;
  /** Users mirrored from `user.created` / `user.updated` / `user.deleted` webhooks. */
  users: UserMirror;
  /** The signing secret the webhook route verifies with (the dev issuer's when no key is configured). */
  webhookSigningSecret: string | undefined;
  close(): Promise<void>;
}

/** The caller of a request, for the access log: set by the tRPC context and the Yoga plugin below. */
const callers = new WeakMap<IncomingMessage, string>();

function accessLog(log: (line: string) => void) {
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction): void => {
    const started = performance.now();
    res.once('finish', () => {
      const ms = (performance.now() - started).toFixed(1);
      log(`express ${req.method} ${req.originalUrl.split('?')[0]} ${res.statusCode} ${callers.get(req) ?? 'anonymous'} ${ms}ms`);
    });
    next();
  };
}

/** Records the caller Yoga authenticated (Yoga's server context carries Express's `req`). */
function useAccessLogCaller(): Plugin<ClerkGraphQLContext & { req?: IncomingMessage }> {
  return {
    onContextBuilding() {
      return ({ context }) => {
        const { auth, req } = context;
        if (req && auth?.userId) callers.set(req, auth.userId);
      };
    },
  };
}

/** The raw body as a web `Request`: `verifyWebhook` checks the signature over the exact bytes Clerk sent. */
function toWebRequest(req: ExpressRequest): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(0);
  return new Request(new URL(req.originalUrl, `http://${req.headers.host ?? 'localhost'}`), { method: req.method, headers, body });
}

function portFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim();
  if (!raw) return 4003;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535; got ${JSON.stringify(raw)}.`);
  return port;
}

/** Starts the Express server hosting tRPC, GraphQL and the Clerk webhook route. */
export async function startExpressServer(options: ExpressServerOptions = {}): Promise<ExpressServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const port = options.port ?? portFrom(env);
  const clerk = await loadClerk(env, 'express');
  const notes = new NotesStore();

  // ── tRPC: one createContext for HTTP (Express) and WebSocket (applyWSSHandler) ──────────────────
  const clerkContext = createClerkContext(clerk.clerkAuth);
  const createContext = async (opts: CreateExpressContextOptions | CreateWSSContextFnOptions): Promise<AppContext> => {
    const ctx = await clerkContext(opts);
    if (ctx.auth.userId) callers.set(opts.req, ctx.auth.userId);
    return { ...ctx, notes, noteCaller: (id) => callers.set(opts.req, id) };
  };

  // ── GraphQL Yoga, sharing the same ClerkAuth (one token cache) and the same notes ──────────────
  const parties = clerk.clerkAuth.config.authorizedParties;
  const yoga = createYoga({
    schema: createNotesSchema(notes),
    graphqlEndpoint: '/graphql',
    plugins: [useClerk(clerk.clerkAuth), useAccessLogCaller()],
    cors: { origin: parties && parties.length > 0 ? [...parties] : '*', credentials: false, exposedHeaders: ['WWW-Authenticate'] },
    maskedErrors: { isDev: false },
    landingPage: false,
    logging: false,
  });

  // ── Clerk webhooks: verified with @clerk/backend/webhooks over the raw body ─────────────────────
  const webhookSigningSecret = env.CLERK_WEBHOOK_SIGNING_SECRET?.trim() || clerk.dev?.issuer.webhookSigningSecret;
  if (!webhookSigningSecret) console.warn('express: CLERK_WEBHOOK_SIGNING_SECRET is not set; POST /webhooks/clerk answers 501 until it is.');
  const mirror = new Map<string, { id: string; email: string | null }>();
  const onEvent = (event: WebhookEvent): void => {
    switch (event.type) {
      case 'user.created':
      case 'user.updated': {
        const { id, email_addresses, primary_email_address_id } = event.data;
        const primary = email_addresses.find((address) => address.id === primary_email_address_id) ?? email_addresses[0];
        mirror.set(id, { id, email: primary?.email_address ?? null });
        break;
      }
      case 'user.deleted':
        if (event.data.id) mirror.delete(event.data.id);
        break;
      default:
        // Subscribe the endpoint only to the events you handle (Clerk Dashboard → Webhooks).
        break;
    }
    log(`express webhook ${event.type} ${'id' in event.data && typeof event.data.id === 'string' ? event.data.id : ''}`.trimEnd());
  };
  // With REDIS_URL, a delivery is processed once across every instance sharing the store.
  const handleWebhook = clerkWebhookHandler({
    signingSecret: webhookSigningSecret,
    onEvent,
    ...(clerk.store && { store: clerk.store }),
    onError: (error, event) => log(`express webhook ${event.type} failed: ${error instanceof Error ? error.message : String(error)}`),
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(accessLog(log));
  // The raw body, not parsed JSON: the signature is over the exact bytes.
  app.post('/webhooks/clerk', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const response = await handleWebhook(toWebRequest(req));
    res.status(response.status).type('application/json').send(await response.text());
  });
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext,
      responseMeta: clerkResponseMeta,
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`express: trpc ${path ?? '(request)'} failed: ${error.message}`);
      },
    }),
  );
  app.use(yoga.graphqlEndpoint, yoga);

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, (error?: Error) => (error ? reject(error) : resolve(listening)));
  }).catch(async (error: unknown) => {
    await clerk.close();
    throw error;
  });

  // tRPC over WebSocket on the same port, at /trpc (wsLink with connectionParams: clerkConnectionParams(getToken)).
  const wss = new WebSocketServer({ noServer: true });
  applyWSSHandler({ wss, router: appRouter, createContext });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/trpc') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    clerk,
    notes,
    users: { get: (id) => mirror.get(id), get size() { return mirror.size; } },
    webhookSigningSecret,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await clerk.close();
    },
  };
}

async function main(): Promise<void> {
  let server: ExpressServer;
  try {
    server = await startExpressServer();
  } catch (error) {
    console.error(`express: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`express: listening on http://localhost:${server.port} (tRPC /trpc, GraphQL /graphql, webhooks POST /webhooks/clerk)`);
  const stop = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
