import { readToken, type TokenGetter } from './get-token.js';

/**
 * Options of `createClerkFetch`.
 *
 * @example
 * ```ts
 * const options: ClerkFetchOptions = { getToken: () => window.Clerk?.session?.getToken() ?? null };
 * ```
 */
export interface ClerkFetchOptions {
  /** Clerk's `getToken` (or any function of that shape). */
  getToken: TokenGetter;
  /** The fetch to wrap. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** The auth-params of the `Bearer` challenge of a `WWW-Authenticate` value, or `null` when it has none. */
function bearerChallenge(header: string | null): Map<string, string> | null {
  if (header === null) return null;
  // Challenges are comma-separated, and so are their params: read `Bearer`'s params up to the next scheme.
  const start = /(?:^|,)\s*bearer(?=\s|,|$)/i.exec(header);
  if (start === null) return null;
  const params = new Map<string, string>();
  const param = /\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))/y;
  param.lastIndex = start.index + start[0].length;
  for (let match = param.exec(header); match !== null; match = param.exec(header)) {
    const name = (match[1] as string).toLowerCase();
    if (!params.has(name)) params.set(name, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] as string));
  }
  return params;
}

/**
 * Whether a response says the presented token was rejected: a 401 whose `WWW-Authenticate` is a
 * `Bearer` challenge with `error="invalid_token"` (RFC 6750), whatever the reason. A 401 without it
 * (no token wanted, or none sent) is not. Not every rejection is worth a new token: see
 * `isRefreshableTokenResponse`, which is what `createClerkFetch` retries on.
 *
 * @example
 * ```ts
 * if (isInvalidTokenResponse(response)) console.log('the server rejected the token');
 * ```
 */
export function isInvalidTokenResponse(response: Response): boolean {
  if (response.status !== 401) return false;
  return bearerChallenge(response.headers.get('www-authenticate'))?.get('error')?.toLowerCase() === 'invalid_token';
}

/**
 * Why a token was rejected for which a freshly minted token of the same kind can help. Clerk's
 * frontend mints a new session token on `getToken({ skipCache: true })`, valid from now, signed
 * with the instance's current key.
 */
const REFRESHABLE: ReadonlySet<string> = new Set([
  'token-expired',
  'token-not-active-yet',
  'token-iat-in-the-future',
  'token-invalid-signature',
  'jwk-kid-mismatch',
]);

/**
 * Whether a response rejected the token for a reason a freshly minted token can fix: a 401 whose
 * `WWW-Authenticate` is `Bearer error="invalid_token"` with one of these `error_description`s
 * (clerk-api-auth's servers put the core's reason there):
 *
 * - `token-expired` — a new token is valid from now;
 * - `token-not-active-yet`, `token-iat-in-the-future` — the token is from the future by the
 *   server's clock: a new one, minted a moment later, may already count (retried once only);
 * - `token-invalid-signature`, `jwk-kid-mismatch` — the instance's signing key was rotated: a new
 *   token is signed with the current key.
 *
 * Never for anything else, where a new token of the same kind would be refused the same way:
 * a 400 (`invalid_request`: several credentials, a malformed `Authorization`), a 403
 * (`insufficient_scope`: the caller lacks a role or permission), a 401 without `invalid_token`
 * (no token was sent or wanted), `token-type-mismatch` (a token of the wrong kind), a pending
 * session, another authorized party or issuer, a malformed or oversized token, a server
 * misconfiguration, or an `invalid_token` without a description.
 *
 * @example
 * ```ts
 * if (isRefreshableTokenResponse(response)) response = await fetch(url, { headers: { authorization: `Bearer ${await getToken({ skipCache: true })}` } });
 * ```
 */
export function isRefreshableTokenResponse(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = bearerChallenge(response.headers.get('www-authenticate'));
  if (challenge?.get('error')?.toLowerCase() !== 'invalid_token') return false;
  return REFRESHABLE.has(challenge.get('error_description') ?? '');
}

/**
 * A `fetch` that sends `Authorization: Bearer <await getToken()>` and retries once, with
 * `getToken({ skipCache: true })`, only when a fresh token can help: a 401 whose `WWW-Authenticate`
 * is `Bearer error="invalid_token"` with `error_description` `token-expired`,
 * `token-not-active-yet`, `token-iat-in-the-future`, `token-invalid-signature` or
 * `jwk-kid-mismatch` (see `isRefreshableTokenResponse` for the rule and why). Any other answer —
 * a 400, a 403, `token-type-mismatch`, a 401 without `invalid_token` — is returned as is, without
 * asking for a new token. The request body is kept for the retry (a streamed one is teed). Use it
 * directly or as the `fetch` of tRPC's `httpBatchLink`, urql, Apollo's `HttpLink`,
 * graphql-request, and other fetch-based clients.
 *
 * @example
 * ```ts
 * import { createClerkFetch } from 'clerk-api-auth/client';
 *
 * const clerkFetch = createClerkFetch({ getToken: () => window.Clerk.session?.getToken() });
 * const response = await clerkFetch('https://api.example.com/graphql', { method: 'POST', body });
 * ```
 */
export function createClerkFetch(options: ClerkFetchOptions): typeof fetch {
  const { getToken } = options;
  const baseFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));

  const send = (request: Request, token: string | null): Promise<Response> => {
    const headers = new Headers(request.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return baseFetch(new Request(request, { headers }));
  };

  return async function clerkFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    // Keep a copy for the retry; a streamed body is teed, not read twice.
    const spare = request.body ? request.clone() : request;
    const token = await readToken(getToken, false);
    const response = await send(request, token);
    if (!isRefreshableTokenResponse(response)) return response;
    const fresh = await readToken(getToken, true);
    if (!fresh) return response;
    await response.body?.cancel();
    return send(spare, fresh);
  } as typeof fetch;
}
