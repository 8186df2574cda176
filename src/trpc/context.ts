import {
  ClerkAuthConfigError,
  credentialInputOf,
  requestAuth,
  resolveClerkAuth,
  ResponseChallenge,
  type AuthenticateResult,
  type ClerkAuth,
  type ClerkAuthSource,
  type ClerkClient,
  type NodeLikeRequest,
  type RequestAuth,
  type SignedInAuthObject,
  type SignedOutAuthObject,
  type SignedOutReason,
} from '../core/internal.js';
import { CLERK_STATE, credentialTimes, type ContextState, type ResponseSink } from './state.js';
import { asWebSocket, scheduleReconnectNotice, type WebSocketEncoder } from './websocket.js';

/**
 * What `createClerkContext` puts in every tRPC context. Procedures built by `clerkProcedures` narrow
 * `auth`; add your own fields by spreading it into your context (the types follow).
 *
 * `auth` is the session view: a signed-in session, or signed out. A machine token (M2M, API key,
 * OAuth) is verified too, but it counts only where a guard asks for it (`machineProcedure`,
 * `authorize({ token })`), which then puts the machine's auth object in `ctx.auth`.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server';
 * import type { ClerkContext, ClerkMeta } from 'clerk-api-auth/trpc';
 *
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * const hello = t.procedure.query(({ ctx }) => ctx.auth.userId ?? 'anonymous'); // string | null
 * ```
 */
export interface ClerkContext {
  /** Clerk's auth object for the caller's session: signed in, or signed out. */
  auth: SignedInAuthObject | SignedOutAuthObject;
  /** Clerk's Backend API client. Throws `ClerkSecretKeyRequiredError` on use when only `CLERK_JWT_KEY` is set. */
  clerk: ClerkClient;
  /** Why `auth` is signed out (`'token-missing'`, `'token-expired'`, …), or `null` when signed in. */
  signedOutReason: SignedOutReason | null;
}

/**
 * tRPC's request info, as far as this package reads it: `connectionParams` carries the token of
 * WebSocket and SSE clients (which cannot set headers).
 *
 * @example
 * ```ts
 * const info: ClerkRequestInfo = { connectionParams: { token } };
 * ```
 */
export interface ClerkRequestInfo {
  connectionParams?: Readonly<Record<string, string | undefined>> | null;
}

/**
 * What the adapters that hand over a request pass to `createContext`, as far as this package reads
 * it: fetch (`{ req: Request, resHeaders, info }` — also Next.js App Router, Cloudflare, Bun, Deno,
 * and `node:http` through it), Node's standalone, Express and Next.js pages adapters
 * (`{ req: IncomingMessage, res: ServerResponse, info }`), Fastify (`{ req: FastifyRequest, res:
 * FastifyReply, info }`) and `applyWSSHandler` (`{ req: upgrade request, res: WebSocket, info }`).
 *
 * @example
 * ```ts
 * import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
 * const opts: ClerkRequestAdapterOptions = {} as CreateFastifyContextOptions;
 * ```
 */
export interface ClerkRequestAdapterOptions {
  /**
   * The request: a web `Request`, a Node `IncomingMessage` (for WebSockets, the upgrade request), or
   * a framework's request with Node-style `headers` (Fastify's, whose `raw` request is read).
   */
  req: Request | NodeLikeRequest;
  /** Fetch adapter: the response headers (`WWW-Authenticate` and `Retry-After` are set here). */
  resHeaders?: Headers;
  /**
   * Node adapters: the `ServerResponse` (headers set with `setHeader` while unsent); Fastify: the
   * `FastifyReply` (`reply.header`); WebSocket adapter: the socket.
   */
  res?: unknown;
  /** tRPC's request info. */
  info?: ClerkRequestInfo | undefined;
  event?: undefined;
}

/**
 * An AWS Lambda event for an HTTP request, as far as this package reads it: API Gateway REST APIs
 * (payload v1: `headers` and `multiValueHeaders`, names as the client sent them), HTTP APIs and
 * function URLs (payload v2: lower-case `headers`, `cookies`), and Application Load Balancers
 * (`headers` or `multiValueHeaders`, names as sent). `APIGatewayProxyEvent`,
 * `APIGatewayProxyEventV2` and `ALBEvent` from `aws-lambda` are all one.
 *
 * @example
 * ```ts
 * import type { APIGatewayProxyEventV2 } from 'aws-lambda';
 * const event: ClerkLambdaEvent = {} as APIGatewayProxyEventV2;
 * ```
 */
export interface ClerkLambdaEvent {
  /** Request headers (v1 and ALB: names as sent; v2: lower-case, repeated headers joined by commas). */
  headers?: Readonly<Record<string, string | undefined>> | null;
  /** v1 and multi-value ALB: every value of every header (two `Authorization` headers are two credentials). */
  multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
  /** v2: the request's cookies, read as one `Cookie` header. */
  cookies?: readonly string[] | null;
  /** API Gateway's `domainName`, the host for the `__session` cookie's same-origin rule when there is no `Host` header. */
  requestContext?: { readonly domainName?: string | undefined; readonly elb?: unknown } | null;
}

/**
 * What tRPC's AWS Lambda adapter (`awsLambdaRequestHandler`) passes to `createContext`:
 * `{ event, context, info }` — no request and no response object. The credential is read from the
 * event; the response headers of a denial (`WWW-Authenticate`, `Retry-After`) are kept in the
 * context and go out through `responseMeta: clerkResponseMeta`, which this adapter needs.
 *
 * @example
 * ```ts
 * import type { CreateAWSLambdaContextOptions } from '@trpc/server/adapters/aws-lambda';
 * import type { APIGatewayProxyEventV2 } from 'aws-lambda';
 * const opts: ClerkLambdaAdapterOptions = {} as CreateAWSLambdaContextOptions<APIGatewayProxyEventV2>;
 * ```
 */
export interface ClerkLambdaAdapterOptions {
  /** The API Gateway, function URL or ALB event. */
  event: ClerkLambdaEvent;
  /** The Lambda invocation's context (not read). */
  context?: unknown;
  /** tRPC's request info. */
  info?: ClerkRequestInfo | undefined;
  req?: undefined;
}

/**
 * What every official tRPC adapter passes to `createContext`, as far as this package reads it: a
 * request (fetch, standalone, Express, Next.js pages, Fastify, WebSocket), or an AWS Lambda event.
 * Each adapter's own options type is assignable to it, so `createClerkContext()` is their
 * `createContext` as is.
 *
 * @example
 * ```ts
 * import type { FetchCreateContextFnOptions } from '@trpc/server/adapters/fetch';
 * const opts: ClerkContextAdapterOptions = {} as FetchCreateContextFnOptions;
 * ```
 */
export type ClerkContextAdapterOptions = ClerkRequestAdapterOptions | ClerkLambdaAdapterOptions;

/**
 * tRPC-side options of `createClerkContext`.
 *
 * @example
 * ```ts
 * createClerkContext({ clerkAuth, webSocketRefreshMs: 10_000 });
 * ```
 */
export interface ClerkContextOptions {
  /**
   * WebSocket connections are authenticated once, when they open. This long before the token
   * expires (at most half its lifetime), the server sends tRPC's `reconnect` notification so that
   * `wsLink` reconnects with fresh `connectionParams`, moving its subscriptions over. `false` turns
   * the notice off; subscriptions still end with `UNAUTHORIZED` at expiry. Default 5000 ms, under
   * the 10 s before expiry at which Clerk's frontend SDKs refresh a session token.
   */
  webSocketRefreshMs?: number | false;
  /** The `experimental_encoder` given to `applyWSSHandler`, if any, for the `reconnect` notice. Default JSON. */
  webSocketEncoder?: WebSocketEncoder;
}

/**
 * A tRPC `createContext` function for every adapter, as `createClerkContext` returns it.
 *
 * @example
 * ```ts
 * const createContext: ClerkContextFactory = createClerkContext();
 * fetchRequestHandler({ endpoint: '/trpc', req, router, createContext });
 * ```
 */
export interface ClerkContextFactory {
  /** Authenticates the request once (batches included) and never throws for a bad token. */
  (opts: ClerkContextAdapterOptions): Promise<ClerkContext>;
  /** The authenticator this factory uses, e.g. for `clerkContextFromToken(token, createContext.clerkAuth)`. */
  readonly clerkAuth: ClerkAuth;
}

/**
 * Creates the tRPC `createContext` function: it reads the caller's credential (the
 * `Authorization: Bearer` header, a same-origin `__session` cookie, or — for WebSocket and SSE
 * clients — `connectionParams`), verifies a session token once per request however many calls a batch
 * holds, and returns `{ auth, clerk, signedOutReason }`. It never throws for a missing or bad token:
 * the context is signed out with a reason, and guards answer 401 (or 400 for a malformed or doubled
 * credential).
 *
 * The same function serves every official adapter — fetch, standalone, Express, Next.js (App Router
 * through fetch, pages through `createNextApiHandler`), Fastify, AWS Lambda and WebSocket — and
 * writes a denial's `WWW-Authenticate` / `Retry-After` through each one's own response: fetch's
 * `resHeaders`, Node's `res.setHeader`, Fastify's `reply.header`. AWS Lambda has no response object:
 * give its handler `responseMeta: clerkResponseMeta`, which returns them.
 *
 * `ctx.auth` is Clerk's default view, the session. A machine token (M2M, API key, OAuth) is verified
 * only when a guard that accepts its kind asks (`machineProcedure`, `authorize({ token })`), so an
 * opaque token sent to a public procedure costs no Backend API call.
 *
 * Pass nothing (configuration from `CLERK_*` environment variables), `createClerkAuth` options (plus
 * the WebSocket settings below), a `ClerkAuth` you already use elsewhere, or `{ clerkAuth, ... }`.
 * Invalid configuration throws here, at startup.
 *
 * @param source - A `ClerkAuth`, or options: Clerk's, `clerkAuth`, `webSocketRefreshMs`, `webSocketEncoder`.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server';
 * import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
 * import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';
 *
 * export const createContext = createClerkContext(); // or createClerkContext({ authorizedParties }) or (clerkAuth)
 * const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
 * export const { publicProcedure, protectedProcedure, authorize } = clerkProcedures(t);
 *
 * export default {
 *   fetch: (req: Request) => fetchRequestHandler({ endpoint: '/trpc', req, router: appRouter, createContext }),
 * };
 * ```
 *
 * @example Fastify and AWS Lambda
 * ```ts
 * import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
 * import { awsLambdaRequestHandler } from '@trpc/server/adapters/aws-lambda';
 *
 * await fastify.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions: { router: appRouter, createContext } });
 * export const handler = awsLambdaRequestHandler({ router: appRouter, createContext, responseMeta: clerkResponseMeta });
 * ```
 *
 * @example Your own fields
 * ```ts
 * const clerkContext = createClerkContext();
 * export const createContext = async (opts: FetchCreateContextFnOptions) => ({ ...(await clerkContext(opts)), db });
 * const t = initTRPC.context<typeof createContext>().meta<ClerkMeta>().create();
 * ```
 *
 * @see https://trpc.io/docs/server/context
 */
export function createClerkContext(source?: ClerkAuthSource<ClerkContextOptions>): ClerkContextFactory {
  const { clerkAuth, own } = resolveClerkAuth<ClerkContextOptions>(source, ['webSocketRefreshMs', 'webSocketEncoder'], 'createClerkContext');
  const refreshMs = own.webSocketRefreshMs ?? 5000;
  if (refreshMs !== false && !(typeof refreshMs === 'number' && Number.isFinite(refreshMs) && refreshMs >= 0)) {
    throw new ClerkAuthConfigError(`\`webSocketRefreshMs\` must be a non-negative number of milliseconds or false; got ${String(refreshMs)}.`);
  }
  const encoder = own.webSocketEncoder;
  const delivery = new DeferredDelivery();

  async function createContext(opts: ClerkContextAdapterOptions): Promise<ClerkContext> {
    const request = requestAuth(clerkAuth, credentialInputOf(opts));
    const settled = request.session();
    const session = settled instanceof Promise ? await settled : settled;
    const ws = opts.req === undefined ? null : asWebSocket(opts.res);
    if (ws !== null && refreshMs !== false) {
      const times = credentialTimes(session);
      if (times !== null) scheduleReconnectNotice(ws, times, refreshMs, encoder);
    }
    return buildContext(clerkAuth, request, session, responseSink(opts, delivery));
  }
  return Object.assign(createContext, { clerkAuth });
}

/**
 * The context for a request: `auth` is the session view, the state keeps the request's credential for
 * guards that accept other token kinds.
 *
 * @internal
 */
export function buildContext(
  clerkAuth: Pick<ClerkAuth, 'check' | 'clerk'> & { config: Pick<ClerkAuth['config'], 'clockSkewInMs'> },
  request: RequestAuth,
  session: AuthenticateResult,
  sink: ResponseSink | null,
): ClerkContext {
  const auth = session.auth as SignedInAuthObject | SignedOutAuthObject;
  const state: ContextState = {
    request,
    view: auth,
    admitted: [],
    check: (r, requirement) => clerkAuth.check(r, requirement),
    clockSkewInMs: clerkAuth.config.clockSkewInMs,
    sink,
    // Present from the start, so every state has one shape.
    admittedLast: undefined,
  };
  return { auth, clerk: clerkAuth.clerk, signedOutReason: session.reason, [CLERK_STATE]: state } as ClerkContext;
}

interface NodeResponseLike {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
}

interface FastifyReplyLike {
  readonly sent: boolean;
  readonly raw?: { readonly headersSent?: boolean };
  header(name: string, value: string): unknown;
}

function isNodeResponse(res: object): res is NodeResponseLike {
  return typeof (res as NodeResponseLike).setHeader === 'function' && 'headersSent' in res;
}

function isFastifyReply(res: object): res is FastifyReplyLike {
  return typeof (res as FastifyReplyLike).header === 'function' && 'sent' in res;
}

/**
 * Response headers through each adapter's own mechanism: fetch `resHeaders`; a Node response
 * (standalone, Express, Next.js pages) while unsent; a Fastify reply (`reply.header`, merged into
 * the response tRPC sends) while unsent; for AWS Lambda, which hands over no response object, the
 * request's challenge is kept for `clerkResponseMeta` to return. WebSocket: none.
 */
function responseSink(opts: ClerkContextAdapterOptions, delivery: DeferredDelivery): ResponseSink | null {
  const { resHeaders, res } = opts as { resHeaders?: Headers; res?: unknown };
  let set: ResponseSink['set'] | null = null;
  let deferred: ResponseSink['deferred'] = null;
  if (resHeaders != null && typeof resHeaders.set === 'function') {
    set = (name, value) => resHeaders.set(name, value);
  } else if (res !== null && typeof res === 'object' && isNodeResponse(res)) {
    set = (name, value) => {
      if (!res.headersSent) res.setHeader(name, value);
    };
  } else if (res !== null && typeof res === 'object' && isFastifyReply(res)) {
    set = (name, value) => {
      if (!res.sent && res.raw?.headersSent !== true) res.header(name, value);
    };
  } else if (opts.event !== null && typeof opts.event === 'object') {
    delivery.check();
    deferred = delivery.forRequest();
    set = () => deferred?.denied();
  }
  if (set === null) return null;
  return { set, challenge: new ResponseChallenge(), eventStream: acceptsEventStream(opts.req), deferred };
}

/**
 * For adapters with no response object (AWS Lambda): whether `clerkResponseMeta` delivers the
 * headers of denials. A factory whose denied requests were never seen by it warns once, since
 * without it a 401 carries no `WWW-Authenticate` and clients never refresh their token.
 */
class DeferredDelivery {
  private denials = false;
  private delivered = false;
  private warned = false;

  forRequest(): NonNullable<ResponseSink['deferred']> {
    return {
      denied: () => void (this.denials = true),
      delivered: () => void (this.delivered = true),
    };
  }

  /** Called as each request starts: an earlier request was denied and `clerkResponseMeta` never ran. */
  check(): void {
    if (!this.denials || this.delivered || this.warned) return;
    this.warned = true;
    console.warn(
      'clerk-api-auth: createClerkContext on an adapter without a response object (AWS Lambda): 401, 403 and 503 answers go out without ' +
        'WWW-Authenticate / Retry-After, so clients never refresh an expired token. Pass `responseMeta: clerkResponseMeta` to the handler.',
    );
  }
}

function acceptsEventStream(req: Request | NodeLikeRequest | undefined): boolean {
  const headers = req?.headers as Headers | NodeLikeRequest['headers'] | undefined;
  if (headers == null) return false;
  const accept = typeof (headers as Headers).get === 'function' ? (headers as Headers).get('accept') : (headers as NodeLikeRequest['headers']).accept;
  return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase().includes('text/event-stream');
}
