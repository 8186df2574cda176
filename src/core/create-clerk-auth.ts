import type { ClerkClient } from '@clerk/backend';
import { checkRequirement, type AuthCheck, type AuthRequirement } from './authorization.js';
import { buildClerkClient } from './clerk-client.js';
import { readCredential, type CredentialRules } from './credentials.js';
import { localKeyResolver, remoteKeyResolver } from './jwks.js';
import type { MachineTokenMetrics } from './metrics.js';
import { accepts, resolveOptions } from './options.js';
import { sessionCookieRules, type SessionCookieRules } from './session-cookie.js';
import { VerifiedTokenCache } from './token-cache.js';
import { TokenVerifier, signedOut } from './verify.js';
import type { AcceptsToken, AuthenticateInput, AuthenticateOptions, AuthenticateResult, ClerkAuthOptions } from './types.js';

/**
 * Configuration a `ClerkAuth` settled on, without any secret.
 *
 * @example
 * ```ts
 * if (clerkAuth.config.networkless) console.log('verifying with CLERK_JWT_KEY only');
 * ```
 */
export interface ClerkAuthConfig {
  /** True when only a JWT key is configured: no Backend API call is ever made. */
  readonly networkless: boolean;
  readonly apiUrl: string;
  readonly apiVersion: string;
  readonly authorizedParties: readonly string[] | undefined;
  readonly clockSkewInMs: number;
  /** The token kinds `authenticate` accepts when a call does not say (the `acceptsToken` option). */
  readonly acceptsToken: AcceptsToken;
}

/**
 * Authenticates requests into Clerk's auth object. Build one per app with `createClerkAuth`.
 *
 * @example
 * ```ts
 * const clerkAuth = createClerkAuth();
 * const { auth, reason } = await clerkAuth.authenticate(request);
 * ```
 */
export interface ClerkAuth {
  /** The Backend API client, created once. Throws `ClerkSecretKeyRequiredError` on use in networkless mode. */
  readonly clerk: ClerkClient;
  /** What this instance was configured with, minus secrets. */
  readonly config: ClerkAuthConfig;
  /**
   * Reads and verifies the credential of a web `Request`, a Node `IncomingMessage`, or a bare token.
   * Never throws: a bad or missing credential resolves signed out with a `reason`.
   */
  authenticate(input: AuthenticateInput, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /** `checkRequirement` with this instance's `appRoleClaim`. */
  check(result: AuthenticateResult, requirement?: AuthRequirement): AuthCheck;
  /** What opaque machine-token verification has cost this instance so far (Backend API calls, answers from the store). */
  metrics(): MachineTokenMetrics;
}

/**
 * Creates the core authenticator. Reads environment fallbacks once and validates everything now:
 * invalid configuration throws `ClerkAuthConfigError` here, never on a request.
 *
 * Works with only `CLERK_SECRET_KEY` (keys from the Backend API JWKS, fetched once and cached) or only
 * `CLERK_JWT_KEY` (networkless, zero network calls). A publishable key is never required; when given,
 * `__session` cookies are read under their suffixed names (`__session_<suffix>`) as Clerk chooses them.
 *
 * @example
 * ```ts
 * import { createClerkAuth } from 'clerk-api-auth';
 *
 * const clerkAuth = createClerkAuth({ authorizedParties: ['https://app.example.com'] });
 *
 * export async function handler(request: Request) {
 *   const { auth } = await clerkAuth.authenticate(request);
 *   if (!auth.isAuthenticated) return new Response('Unauthorized', { status: 401 });
 *   return Response.json({ userId: auth.userId });
 * }
 * ```
 */
export function createClerkAuth(options: ClerkAuthOptions = {}): ClerkAuth {
  const resolved = resolveOptions(options);
  const keys = resolved.jwtKey
    ? localKeyResolver(resolved.jwtKey)
    : remoteKeyResolver({
        apiUrl: resolved.apiUrl,
        apiVersion: resolved.apiVersion,
        secretKey: resolved.secretKey as string,
        timeoutMs: resolved.apiTimeoutMs,
      });
  const cache = resolved.cache === false ? undefined : new VerifiedTokenCache(resolved.cache);
  const clerk = buildClerkClient(resolved);
  const verifier = new TokenVerifier(resolved, keys, cache, clerk);
  const config: ClerkAuthConfig = Object.freeze({
    networkless: !resolved.secretKey && !resolved.clerkClient,
    apiUrl: resolved.apiUrl,
    apiVersion: resolved.apiVersion,
    authorizedParties: resolved.authorizedParties && Object.freeze([...resolved.authorizedParties]),
    clockSkewInMs: resolved.clockSkewInMs,
    acceptsToken: resolved.acceptsToken,
  });

  // The cookie names depend on a digest of the publishable key, computed once (asynchronously, with
  // WebCrypto): until it is known, which is almost at once, calls wait for it.
  const machineRules: CredentialRules = { maxTokenLength: resolved.maxTokenLength, cookie: null };
  let sessionRules: CredentialRules | null = null;
  const useCookieRules = (cookie: SessionCookieRules): void => {
    sessionRules = { maxTokenLength: resolved.maxTokenLength, cookie };
  };
  const cookieRules = sessionCookieRules(resolved.publishableKey);
  const cookieRulesReady = cookieRules instanceof Promise ? cookieRules.then(useCookieRules) : useCookieRules(cookieRules);

  /**
   * Reads the credential and verifies it; settles without a promise when nothing has to be verified.
   * A `__session` cookie only ever carries a session token: it is read only when the call accepts
   * session tokens, and verified as nothing else.
   */
  const settle = (input: AuthenticateInput, callOptions?: AuthenticateOptions): AuthenticateResult | Promise<AuthenticateResult> => {
    if (sessionRules === null) return (cookieRulesReady as Promise<void>).then(() => settle(input, callOptions));
    const acceptsToken = callOptions?.acceptsToken ?? resolved.acceptsToken;
    const credential = readCredential(input, accepts(acceptsToken, 'session_token') ? sessionRules : machineRules);
    if (credential.token === null) return signedOut(credential.reason, acceptsToken);
    return verifier.verify(credential.token, credential.source === 'cookie' ? 'session_token' : acceptsToken, credential.unscanned);
  };

  const clerkAuth: ClerkAuth = {
    clerk,
    config,
    authenticate(input, callOptions) {
      // Not `async`: a settled answer becomes one resolved promise, a pending one is handed on as is.
      try {
        const settled = settle(input, callOptions);
        return settled instanceof Promise ? settled : Promise.resolve(settled);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    check(result, requirement) {
      return checkRequirement(result, requirement, resolved.appRoleClaim);
    },
    metrics() {
      return verifier.metrics();
    },
  };
  settlers.set(clerkAuth, settle);
  return clerkAuth;
}

const settlers = new WeakMap<ClerkAuth, (input: AuthenticateInput, options?: AuthenticateOptions) => AuthenticateResult | Promise<AuthenticateResult>>();

/**
 * `clerkAuth.authenticate(input, options)`, but settled without a promise when nothing asynchronous
 * is needed: no credential, a malformed one, a token verified before and still cached (the common
 * case). Integrations use it to skip a tick on the hot path. (With a publishable key, calls made in
 * the instant after creation, before the cookie names are known, return a promise.) A `ClerkAuth`
 * not made by `createClerkAuth` is simply asked through `authenticate`.
 *
 * @internal
 */
export function authenticateSettled(clerkAuth: ClerkAuth, input: AuthenticateInput, options?: AuthenticateOptions): AuthenticateResult | Promise<AuthenticateResult> {
  const settle = settlers.get(clerkAuth);
  return settle !== undefined ? settle(input, options) : clerkAuth.authenticate(input, options);
}
