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

/**
 * Whether a response says the presented token was rejected (RFC 6750 `error="invalid_token"`),
 * which a fresh token may fix. A 401 without it (no token wanted, or no token sent) is not retried.
 *
 * @example
 * ```ts
 * if (isInvalidTokenResponse(response)) console.log('refresh the session token');
 * ```
 */
export function isInvalidTokenResponse(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate') ?? '';
  return /^\s*bearer\b/i.test(challenge) && /error\s*=\s*"?invalid_token"?/i.test(challenge);
}

/**
 * A `fetch` that sends `Authorization: Bearer <await getToken()>` and, when the answer is a 401 whose
 * `WWW-Authenticate` says the token is invalid or expired, retries once with
 * `getToken({ skipCache: true })`. The request body is buffered for the retry only when the first
 * answer asks for one. Use it directly or as the `fetch` of tRPC's `httpBatchLink`, urql, Apollo's
 * `HttpLink`, graphql-request, and other fetch-based clients.
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
    if (!isInvalidTokenResponse(response)) return response;
    const fresh = await readToken(getToken, true);
    if (!fresh) return response;
    await response.body?.cancel();
    return send(spare, fresh);
  } as typeof fetch;
}
