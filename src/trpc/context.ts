import { signedOutAuthObject } from '@clerk/backend/internal';
import {
  ClerkAuthConfigError,
  createClerkAuth,
  SignedOutReason,
  type AuthenticateResult,
  type ClerkAuth,
  type ClerkAuthOptions,
  type ClerkClient,
  type NodeLikeRequest,
  type SignedInAuthObject,
  type SignedOutAuthObject,
} from '../core/index.js';
import { authenticateSettled } from '../core/create-clerk-auth.js';
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
 * What tRPC adapters pass to `createContext`, as far as this package reads it: fetch
 * (`{ req: Request, resHeaders, info }` — also Next.js App Router, Cloudflare, Bun, Deno), Node's
 * standalone, Express and Next.js pages adapters (`{ req: IncomingMessage, res, info }`), and
 * `applyWSSHandler` (`{ req: upgrade request, res: WebSocket, info: { connectionParams } }`).
 *
 * @example
 * ```ts
 * import type { FetchCreateContextFnOptions } from '@trpc/server/adapters/fetch';
 * const opts: ClerkContextAdapterOptions = {} as FetchCreateContextFnOptions;
 * ```
 */
export interface ClerkContextAdapterOptions {
  /** The request: a web `Request`, or a Node `IncomingMessage` (for WebSockets, the upgrade request). */
  req: Request | NodeLikeRequest;
  /** Fetch adapter: the response headers (`WWW-Authenticate` and `Retry-After` are set here). */
  resHeaders?: Headers;
  /** Node adapters: the `ServerResponse` (headers are set while unsent); WebSocket adapter: the socket. */
  res?: unknown;
  /** tRPC's request info; `connectionParams.token` carries the token of WebSocket and SSE clients. */
  info?: { connectionParams?: Readonly<Record<string, string | undefined>> | null } | undefined;
}

/**
 * tRPC-side options of `createClerkContext`.
 *
 * @example
 * ```ts
 * createClerkContext(clerkAuth, { webSocketRefreshMs: 10_000 });
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

const ANY = { acceptsToken: 'any' } as const;

/**
 * Creates the tRPC `createContext` function: it reads the caller's credential (the
 * `Authorization: Bearer` header, a same-origin `__session` cookie, or — for WebSocket and SSE
 * clients — `connectionParams.token`), verifies it once per request however many calls a batch
 * holds, and returns `{ auth, clerk, signedOutReason }`. It never throws for a missing or bad token:
 * the context is signed out with a reason, and guards answer 401.
 *
 * Pass nothing (configuration from `CLERK_*` environment variables), `createClerkAuth` options, or
 * a `ClerkAuth` you already use elsewhere. Invalid configuration throws here, at startup.
 *
 * @param source - A `ClerkAuth`, or options for `createClerkAuth`.
 * @param options - WebSocket refresh settings.
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
 * @example Your own fields
 * ```ts
 * const clerkContext = createClerkContext();
 * export const createContext = async (opts: FetchCreateContextFnOptions) => ({ ...(await clerkContext(opts)), db });
 * const t = initTRPC.context<typeof createContext>().meta<ClerkMeta>().create();
 * ```
 *
 * @see https://trpc.io/docs/server/context
 */
export function createClerkContext(source?: ClerkAuth | ClerkAuthOptions, options: ClerkContextOptions = {}): ClerkContextFactory {
  const clerkAuth = isClerkAuth(source) ? source : createClerkAuth(source);
  const refreshMs = options.webSocketRefreshMs ?? 5000;
  if (refreshMs !== false && !(typeof refreshMs === 'number' && Number.isFinite(refreshMs) && refreshMs >= 0)) {
    throw new ClerkAuthConfigError(`\`webSocketRefreshMs\` must be a non-negative number of milliseconds or false; got ${String(refreshMs)}.`);
  }

  async function createContext(opts: ClerkContextAdapterOptions): Promise<ClerkContext> {
    const settled = authenticateAdapterRequest(clerkAuth, opts);
    const result = settled instanceof Promise ? await settled : settled;
    const times = credentialTimes(result);
    const ws = asWebSocket(opts.res);
    if (ws !== null && times !== null && refreshMs !== false) scheduleReconnectNotice(ws, times, refreshMs, options.webSocketEncoder);
    return buildContext(clerkAuth, result, times?.expiresAt ?? null, responseSink(opts));
  }
  return Object.assign(createContext, { clerkAuth });
}

/** Whether `value` is a `ClerkAuth` rather than options for one. @internal */
export function isClerkAuth(value: unknown): value is ClerkAuth {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClerkAuth).authenticate === 'function' &&
    typeof (value as ClerkAuth).check === 'function'
  );
}

/**
 * The context for a verified result: `auth` is its session view, the state keeps the result itself
 * for guards that accept machine tokens.
 *
 * @internal
 */
export function buildContext(
  clerkAuth: Pick<ClerkAuth, 'check'> & { clerk: ClerkClient },
  result: AuthenticateResult,
  deadline: number | null,
  sink: ResponseSink | null,
): ClerkContext {
  const session = sessionView(result);
  const state: ContextState = { result, view: session.auth, check: (r, requirement) => clerkAuth.check(r, requirement), deadline, sink };
  return { auth: session.auth, clerk: clerkAuth.clerk, signedOutReason: session.reason, [CLERK_STATE]: state } as ClerkContext;
}

function sessionView(result: AuthenticateResult): { auth: SignedInAuthObject | SignedOutAuthObject; reason: SignedOutReason | null } {
  const { auth } = result;
  if (auth.tokenType === 'session_token') return { auth, reason: result.reason };
  return { auth: signedOutAuthObject(), reason: result.reason ?? SignedOutReason.TokenTypeMismatch };
}

/**
 * One credential per request: `connectionParams.token` (WebSocket and SSE clients, which cannot set
 * headers), else the request itself. A request that carries both an `Authorization` header and a
 * `connectionParams` token is refused rather than silently reading one of them.
 */
function authenticateAdapterRequest(clerkAuth: ClerkAuth, opts: ClerkContextAdapterOptions): AuthenticateResult | Promise<AuthenticateResult> {
  const params = opts.info?.connectionParams;
  const paramToken = params != null && Object.prototype.hasOwnProperty.call(params, 'token') ? params.token : undefined;
  if (typeof paramToken === 'string' && paramToken.trim() !== '') {
    if (hasAuthorizationHeader(opts.req)) {
      return { auth: signedOutAuthObject(), reason: SignedOutReason.MultipleAuthorizationHeaders };
    }
    return authenticateSettled(clerkAuth, paramToken, ANY);
  }
  return authenticateSettled(clerkAuth, opts.req, ANY);
}

function hasAuthorizationHeader(req: Request | NodeLikeRequest | undefined): boolean {
  if (req == null) return false;
  const headers = req.headers as Headers | NodeLikeRequest['headers'] | undefined;
  if (headers == null) return false;
  if (typeof (headers as Headers).has === 'function') return (headers as Headers).has('authorization');
  return (headers as NodeLikeRequest['headers']).authorization !== undefined;
}

interface NodeResponseLike {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
}

/** Response headers where the adapter exposes them: fetch `resHeaders`, or a Node response not yet sent. */
function responseSink(opts: ClerkContextAdapterOptions): ResponseSink | null {
  const { resHeaders, res } = opts;
  let set: ResponseSink['set'] | null = null;
  if (resHeaders != null && typeof resHeaders.set === 'function') {
    set = (name, value) => resHeaders.set(name, value);
  } else if (res !== null && typeof res === 'object' && typeof (res as NodeResponseLike).setHeader === 'function' && 'headersSent' in res) {
    const node = res as NodeResponseLike;
    set = (name, value) => {
      if (!node.headersSent) node.setHeader(name, value);
    };
  }
  if (set === null) return null;
  return { set, challenge: 'none', status: null, eventStream: acceptsEventStream(opts.req) };
}

function acceptsEventStream(req: Request | NodeLikeRequest): boolean {
  const headers = req.headers as Headers | NodeLikeRequest['headers'];
  const accept = typeof (headers as Headers).get === 'function' ? (headers as Headers).get('accept') : (headers as NodeLikeRequest['headers']).accept;
  return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase().includes('text/event-stream');
}
