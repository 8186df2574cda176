import {
  ClerkAuthConfigError,
  requestAuth,
  resolveClerkAuth,
  ResponseChallenge,
  type AuthenticateInput,
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

  async function createContext(opts: ClerkContextAdapterOptions): Promise<ClerkContext> {
    const request = requestAuth(clerkAuth, adapterInput(opts));
    const settled = request.session();
    const session = settled instanceof Promise ? await settled : settled;
    const ws = asWebSocket(opts.res);
    if (ws !== null && refreshMs !== false) {
      const times = credentialTimes(session);
      if (times !== null) scheduleReconnectNotice(ws, times, refreshMs, encoder);
    }
    return buildContext(clerkAuth, request, session, responseSink(opts));
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
    admitted: new WeakSet(),
    check: (r, requirement) => clerkAuth.check(r, requirement),
    clockSkewInMs: clerkAuth.config.clockSkewInMs,
    sink,
  };
  return { auth, clerk: clerkAuth.clerk, signedOutReason: session.reason, [CLERK_STATE]: state } as ClerkContext;
}

/**
 * Where the adapter's credential is: `connectionParams` (WebSocket and SSE clients, which cannot set
 * headers) next to the request itself; the core's one reader applies one rule to both (a params token
 * and a different header token are refused as two credentials).
 */
function adapterInput(opts: ClerkContextAdapterOptions): AuthenticateInput {
  const params = opts.info?.connectionParams;
  if (params != null) return { connectionParams: params, request: opts.req ?? null };
  return opts.req ?? null;
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
  return { set, challenge: new ResponseChallenge(), eventStream: acceptsEventStream(opts.req) };
}

function acceptsEventStream(req: Request | NodeLikeRequest | undefined): boolean {
  const headers = req?.headers as Headers | NodeLikeRequest['headers'] | undefined;
  if (headers == null) return false;
  const accept = typeof (headers as Headers).get === 'function' ? (headers as Headers).get('accept') : (headers as NodeLikeRequest['headers']).accept;
  return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase().includes('text/event-stream');
}
