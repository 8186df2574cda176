import type { ClerkClient, ClerkOptions } from '@clerk/backend';
import type { invalidTokenAuthObject } from '@clerk/backend/internal';
import type {
  AuthenticatedMachineObject,
  MachineTokenType,
  SignedInAuthObject,
  SignedOutAuthObject,
  UnauthenticatedMachineObject,
} from '@clerk/backend/internal';
import type { SignedOutReason } from './reasons.js';
import type { ClerkAuthStore } from './store.js';
import type { TokenCacheOptions } from './token-cache.js';

export type { ClerkClient, SignedInAuthObject, SignedOutAuthObject, AuthenticatedMachineObject, UnauthenticatedMachineObject, MachineTokenType };

/**
 * The kinds of token Clerk issues: session tokens and the three machine kinds.
 *
 * @example
 * ```ts
 * const kind: TokenKind = 'm2m_token';
 * ```
 */
export type TokenKind = 'session_token' | MachineTokenType;

/**
 * Which token kinds a call accepts: one kind, a list of kinds, or `'any'`.
 *
 * @example
 * ```ts
 * await clerkAuth.authenticate(request, { acceptsToken: ['session_token', 'm2m_token'] });
 * ```
 */
export type AcceptsToken = TokenKind | readonly TokenKind[] | 'any';

/**
 * Clerk's auth object, as `@clerk/backend` builds it: signed in (session), signed out, or a machine.
 *
 * @example
 * ```ts
 * const { auth } = await clerkAuth.authenticate(request);
 * if (auth.tokenType === 'session_token' && auth.isAuthenticated) console.log(auth.userId);
 * ```
 */
export type ClerkAuthObject =
  | SignedInAuthObject
  | SignedOutAuthObject
  | AuthenticatedMachineObject
  | UnauthenticatedMachineObject
  | InvalidTokenAuthObject;

/**
 * Clerk's auth object for a call that accepts several token kinds when the credential is of none of
 * them (or there is none): `tokenType: null`, signed out. As `@clerk/backend` builds it.
 *
 * @example
 * ```ts
 * const { auth } = await clerkAuth.authenticate(request, { acceptsToken: ['api_key', 'm2m_token'] });
 * if (auth.tokenType === null) console.log('neither an API key nor an M2M token');
 * ```
 */
export type InvalidTokenAuthObject = ReturnType<typeof invalidTokenAuthObject>;

/**
 * Options of `createClerkAuth`: every `createClerkClient` option, every verification option, and a few
 * of our own. Anything unset falls back to the environment (read once, at creation).
 *
 * @example
 * ```ts
 * createClerkAuth({ secretKey: process.env.CLERK_SECRET_KEY, authorizedParties: ['https://app.example.com'] });
 * ```
 */
export interface ClerkAuthOptions extends Omit<ClerkOptions, 'jwtKey' | 'audience'> {
  /** PEM public key (SPKI) for networkless verification. Env: `CLERK_JWT_KEY`. 2048 and 4096 bits work. */
  jwtKey?: string;
  /** Secret key for the Backend API and JWKS. Env: `CLERK_SECRET_KEY`. */
  secretKey?: string;
  /** Machine secret key, for verifying opaque M2M tokens. Env: `CLERK_MACHINE_SECRET_KEY`. */
  machineSecretKey?: string;
  /** Backend API URL. Env: `CLERK_API_URL`. Default `https://api.clerk.com`. */
  apiUrl?: string;
  /** Backend API version. Env: `CLERK_API_VERSION`. Default `v1`. */
  apiVersion?: string;
  /** Publishable key; only needed for same-origin cookie sessions. Env: `CLERK_PUBLISHABLE_KEY`. */
  publishableKey?: string;
  /** Origins allowed in a session token's `azp` claim. Env: `CLERK_AUTHORIZED_PARTIES` (comma-separated). */
  authorizedParties?: string[];
  /** Accepted `aud` values. */
  audience?: string | string[];
  /** Accepted `iss` values. */
  issuer?: string | string[];
  /** Allowed clock skew in milliseconds. Default 5000, as in `@clerk/backend`. */
  clockSkewInMs?: number;
  /** Token kinds `authenticate` accepts unless a call says otherwise. Default `'session_token'`. */
  acceptsToken?: AcceptsToken;
  /** Bring your own Backend API client instead of one built from these options. */
  clerkClient?: ClerkClient;
  /** Longest token accepted, in characters; longer ones are rejected before any crypto. Default 16384. */
  maxTokenLength?: number;
  /**
   * Time limit in ms for one Backend API call made during verification (JWKS, opaque tokens) and for
   * every `clerk` call. Default 5000. A timed-out verification request is aborted (its connection
   * closed) and the request is signed out with `clerk-api-unavailable` (503). A timed-out `clerk` call
   * rejects with `ClerkApiUnavailableError`, but `@clerk/backend` offers no way to abort its own
   * request, which runs on until the Backend API answers.
   */
  apiTimeoutMs?: number;
  /**
   * Where opaque machine-token verifications (and nothing else) are shared: accepted tokens for
   * `machineTokens.acceptedTtlMs`, definite rejections for `machineTokens.rejectedTtlMs`. Default: an
   * in-memory store of this instance (`createMemoryStore`, bounded by `machineTokens.rejectedMaxEntries`).
   * Give every instance of an app one shared store — `createRedisStore` from `clerk-api-auth/redis` —
   * and N instances receiving the same API key make one Backend API verification between them per
   * TTL. Nothing in the store holds a token in clear, nothing written to it can make a token verify,
   * and a store that is down, slow or wrong only means asking Clerk directly.
   *
   * ```ts
   * import { createRedisStore } from 'clerk-api-auth/redis';
   * createClerkAuth({ store: createRedisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }) });
   * ```
   */
  store?: ClerkAuthStore;
  /**
   * Bounds on what opaque machine tokens (`ak_…`, `mt_…`, `oat_…`, verified by the Backend API) can
   * cost. Every field is optional.
   *
   * ```ts
   * createClerkAuth({ acceptsToken: 'api_key', machineTokens: { acceptedTtlMs: 5_000, rejectedTtlMs: 30_000, maxConcurrentVerifications: 20 } });
   * ```
   */
  machineTokens?: {
    /**
     * How long a token Clerk accepted is answered from the store without asking again, in ms, and
     * never past the token's expiration. This is the revocation trade-off: a key revoked in Clerk keeps
     * working for up to this long (on every instance sharing the store). Default 10,000; `0` asks
     * Clerk on every request (revocation takes effect at once).
     */
    acceptedTtlMs?: number;
    /**
     * How long a token the Backend API definitely rejected (unknown, revoked, expired, wrong audience)
     * is answered from the store, in ms, so a repeated bad token costs one call per window. Outages,
     * timeouts, 429s and 5xx answers are never remembered. Default 10,000; `0` asks every time.
     */
    rejectedTtlMs?: number;
    /**
     * Most verifications (accepted and rejected, by keyed hash, never in clear) the default in-memory
     * store keeps, oldest forgotten first. Default 10,000; `0` remembers none. Not allowed with
     * `store` (bound that store itself).
     */
    rejectedMaxEntries?: number;
    /**
     * Most Backend API verifications in flight at once for this instance (concurrent requests with the
     * same token share one). Default 10; `0` means no cap.
     */
    maxConcurrentVerifications?: number;
    /**
     * Most verifications waiting for a slot; each waits at most `apiTimeoutMs`. A verification that
     * finds the queue full or waits too long is signed out with `clerk-api-unavailable` (503), never
     * accepted. Default 1,000; `0` means none wait.
     */
    maxQueuedVerifications?: number;
    /**
     * Longest wait for one store call, in ms. A store call that fails or takes longer is a miss: the
     * token is asked of Clerk directly, and the store is left alone for a second. Default 200; must be
     * positive.
     */
    storeTimeoutMs?: number;
    /**
     * When several instances miss on the same token at once, the first takes a short lock in the store
     * and asks Clerk; the others poll the store for its answer for up to this long, in ms, then ask
     * Clerk themselves. Default 1,000; `0` takes no lock. Only with a `store` given (one instance's own
     * requests always share one call).
     */
    sharedWaitMs?: number;
  };
  /** Dot path of the application role inside session claims. Default `metadata.role` (Clerk's recommended custom claim). */
  appRoleClaim?: string;
  /**
   * The verified-token cache: a token verified once is not verified again until it expires. `false`
   * disables it. Default `{ maxEntries: 10_000, maxBytes: 16 MiB }`.
   */
  cache?: false | TokenCacheOptions;
  /** Where environment fallbacks are read from. Default `process.env` where it exists. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Anything `authenticate` can read a credential from: a web `Request`, a Node `IncomingMessage`
 * (or anything with Node-style `headers`, such as an AWS Lambda event), the connection parameters of
 * a WebSocket or SSE client together with its request (`ConnectionInput`), a bare token string, or
 * nothing.
 *
 * @example
 * ```ts
 * await clerkAuth.authenticate(new Request('https://api.example.com', { headers: { authorization: `Bearer ${token}` } }));
 * await clerkAuth.authenticate({ connectionParams: { token }, request: upgradeRequest });
 * ```
 */
export type AuthenticateInput = Request | NodeLikeRequest | ConnectionInput | string | null | undefined;

/**
 * The connection parameters a WebSocket or SSE client sends (graphql-ws `connectionParams`, tRPC
 * `info.connectionParams`), with the request they came on (the WebSocket upgrade request, or the SSE
 * request). Told apart from a request by its `connectionParams` key.
 *
 * One rule reads it: the token is `token`, `authorization` (any case) or `headers.authorization` (any
 * case), as `"Bearer <token>"` (scheme in any case) or the bare token. A value that is not a string
 * is malformed; two different tokens, or a token that differs from the request's own
 * `Authorization` header, are refused as `multiple-authorization-headers` (the same token in both
 * places is fine). With no token in the parameters, the request is read as usual (its
 * `Authorization` header, else a same-origin `__session` cookie).
 *
 * @example
 * ```ts
 * // graphql-ws: context.connectionParams and context.extra.request
 * const { auth } = await clerkAuth.authenticate({ connectionParams: ctx.connectionParams, request: ctx.extra.request });
 * // tRPC: opts.info.connectionParams and opts.req
 * const result = await clerkAuth.authenticate({ connectionParams: opts.info?.connectionParams, request: opts.req });
 * ```
 */
export interface ConnectionInput {
  /** The client's connection parameters; `null` or `undefined` when it sent none. */
  connectionParams: Readonly<Record<string, unknown>> | null | undefined;
  /** The request the parameters came on, read when the parameters carry no token. */
  request?: Request | NodeLikeRequest | null;
}

/**
 * The part of a Node `IncomingMessage` the core reads.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 * const input: NodeLikeRequest = {} as IncomingMessage;
 * ```
 */
export interface NodeLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  headersDistinct?: Record<string, string[] | undefined>;
  rawHeaders?: string[];
}

/**
 * The outcome of `authenticate`: Clerk's auth object, and why it is signed out when it is.
 *
 * @example
 * ```ts
 * const { auth, reason } = await clerkAuth.authenticate(request);
 * ```
 */
export interface AuthenticateResult<TAuth extends ClerkAuthObject = ClerkAuthObject> {
  /** Clerk's own auth object. */
  auth: TAuth;
  /** `null` when authenticated; otherwise the machine-readable reason. */
  reason: SignedOutReason | null;
  /**
   * When authenticated: the moment (ms since the epoch) the credential stops verifying — a JWT's
   * `exp` plus the clock skew, or an opaque machine token's expiration. Long-lived connections
   * (subscriptions, WebSockets) end then. Absent when signed out or when the token never expires.
   */
  expiresAt?: number;
  /**
   * When signed out with `clerk-api-unavailable` because Clerk's Backend API is rate limiting this
   * app (HTTP 429): how long to wait, in seconds (Clerk's own `Retry-After`). Guards answer 503 with
   * this `Retry-After`.
   */
  retryAfterSeconds?: number;
}

/**
 * Per-call options of `authenticate`.
 *
 * @example
 * ```ts
 * await clerkAuth.authenticate(request, { acceptsToken: 'any' });
 * ```
 */
export interface AuthenticateOptions {
  /** Token kinds accepted by this call; defaults to the `acceptsToken` option. */
  acceptsToken?: AcceptsToken;
}
