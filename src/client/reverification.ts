import { validateReverificationConfig } from '@clerk/shared/authorization';
import { isReverificationHint, reverificationError } from '@clerk/shared/authorization-errors';
import type { ReverificationConfig } from '@clerk/shared/types';
// A type only (erased from the build): the hint's shape, as the core documents it.
import type { ReverificationHint } from '../core/internal.js';
import type { TokenGetter } from './get-token.js';

/** How deep `reverificationHintOf` looks, and how many list items per level: a bounded walk. */
const MAX_DEPTH = 6;
const MAX_ITEMS = 50;

/**
 * Where the clients we support put a server's error: tRPC (`TRPCClientError.data` / `.shape.data`,
 * `.meta.responseJSON`, a raw `{ error: { data } }` envelope, a batch array), GraphQL
 * (`errors[].extensions` of a response body; graphql-request's `ClientError.response.errors`;
 * `graphQLErrors` of urql and older Apollo clients), and causes.
 */
const KEYS = ['data', 'shape', 'error', 'errors', 'graphQLErrors', 'extensions', 'response', 'meta', 'responseJSON', 'body', 'cause'] as const;

/**
 * The reverification hint a server answered with, wherever the client library put it: a thrown
 * `TRPCClientError` (its `data.clerk_error`, from `clerkErrorFormatter`), a GraphQL response or
 * error (`extensions.clerk_error` of any of its errors; graphql-request's `ClientError`, urql's and
 * Apollo's combined errors), a parsed tRPC or GraphQL response body, or a hint itself. Returns
 * Clerk's hint (`ReverificationHint` of `clerk-api-auth`) rebuilt with Clerk's own
 * `reverificationError` (so `isReverificationHint` holds), with `metadata.reverification` kept when
 * it is a reverification setting Clerk accepts; `null` when the value carries none. Reads plain
 * data only, at a bounded depth.
 *
 * @example
 * ```ts
 * import { reverificationHintOf } from 'clerk-api-auth/client';
 * try { await trpc.account.rotateKey.mutate(); }
 * catch (error) { if (reverificationHintOf(error)) console.log('verify again, then retry'); }
 * ```
 */
export function reverificationHintOf(value: unknown): ReverificationHint | null {
  const found = find(value, 0, new Set());
  if (found === undefined) return null;
  const sent = (found.clerk_error as { metadata?: { reverification?: ReverificationConfig } }).metadata?.reverification;
  const reverification = validateReverificationConfig(sent) === false ? undefined : sent;
  // Clerk's helper types `metadata` as optional; it always sets it.
  return reverificationError(reverification) as ReverificationHint;
}

function find(value: unknown, depth: number, seen: Set<object>): { clerk_error: unknown } | undefined {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || seen.has(value)) return undefined;
  seen.add(value);
  if (isReverificationHint(value)) return value;
  if (Array.isArray(value)) {
    for (const item of value.slice(0, MAX_ITEMS)) {
      const found = find(item, depth + 1, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of KEYS) {
    let child: unknown;
    try {
      child = (value as Record<string, unknown>)[key];
    } catch {
      continue; // a getter that throws carries nothing we can read
    }
    const found = find(child, depth + 1, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The hint in a JSON response body (tRPC or GraphQL), read from a copy; `null` for none or another body. */
async function hintOfResponse(response: Response): Promise<ReverificationHint | null> {
  const type = response.headers.get('content-type') ?? '';
  if (!/\bjson\b/i.test(type) || response.bodyUsed) return null;
  try {
    return reverificationHintOf(await response.clone().json());
  } catch {
    return null;
  }
}

/**
 * Options of `clerkReverification`.
 *
 * @example
 * ```ts
 * const options: ClerkReverificationOptions = { getToken: () => window.Clerk.session?.getToken() };
 * ```
 */
export interface ClerkReverificationOptions {
  /** Clerk's `getToken` (or any function of that shape). */
  getToken: TokenGetter;
}

/**
 * What `clerkReverification` returns: a token getter for the transport, and `fetcher` to wrap the
 * calls you hand to Clerk's `useReverification`.
 *
 * @example
 * ```ts
 * const reverification: ClerkReverification = clerkReverification({ getToken });
 * ```
 */
export interface ClerkReverification {
  /**
   * `getToken`, except that the first token read once a wrapped call has answered with the hint and
   * a wrapped call runs again (the retry after the user verified) is freshly minted
   * (`getToken({ skipCache: true })`), so it carries the new verification age (`fva`) rather than a
   * cached token's. Give it to `createClerkFetch`, `clerkAuthHeaders` or your client's header hook.
   */
  readonly getToken: TokenGetter;
  /**
   * Wraps a call (a tRPC procedure call, a GraphQL request, a `fetch`) for Clerk's
   * `useReverification`: when the call throws an error carrying the server's reverification hint,
   * or returns a JSON `Response` carrying it, the wrapper returns Clerk's hint instead, which is what
   * `useReverification` checks for to prompt the user and call again. Anything else — the call's
   * result, any other error — passes through unchanged. `useReverification` types its result without
   * the hint (`ExcludeClerkError`).
   */
  fetcher<TArgs extends unknown[], TResult>(call: (...args: TArgs) => Promise<TResult>): (...args: TArgs) => Promise<TResult | ReverificationHint>;
}

/**
 * Makes Clerk's `useReverification` work with tRPC and GraphQL calls. Clerk's hook prompts the user
 * to verify again and retries only when the call returns Clerk's reverification hint; a
 * `TRPCClientError` or a GraphQL error is thrown, so it would just fail. The servers of this package
 * answer a missing recent reverification with 403 and the hint in the tRPC error's
 * `data.clerk_error` (with `clerkErrorFormatter`) or the GraphQL error's `extensions.clerk_error`;
 * `fetcher(call)` turns such an answer into the hint, and `getToken` makes the retry carry a freshly
 * minted token. `createClerkFetch` itself never retries a 403: the retry is the user's to approve.
 *
 * @example
 * ```ts
 * import { useAuth, useReverification } from '@clerk/clerk-react';
 * import { createTRPCClient, httpBatchLink } from '@trpc/client';
 * import { clerkReverification, createClerkFetch } from 'clerk-api-auth/client';
 *
 * const { getToken } = useAuth();
 * const reverification = clerkReverification({ getToken });
 * const trpc = createTRPCClient<AppRouter>({
 *   links: [httpBatchLink({ url: '/trpc', fetch: createClerkFetch({ getToken: reverification.getToken }) })],
 * });
 * const rotateKey = useReverification(reverification.fetcher(() => trpc.account.rotateKey.mutate()));
 * await rotateKey(); // 403 + hint → Clerk's verification prompt → retried with a fresh token
 * ```
 */
export function clerkReverification(options: ClerkReverificationOptions): ClerkReverification {
  const { getToken } = options;
  if (typeof getToken !== 'function') throw new TypeError('clerkReverification: `getToken` must be a function (Clerk’s getToken).');
  let freshNext = false;
  // Whether the last wrapped call answered with the hint: then the next one is useReverification's retry
  // (kept here, not per wrapper, so a wrapper re-created on every render still knows).
  let hinted = false;
  return {
    getToken(tokenOptions) {
      if (freshNext) {
        freshNext = false;
        return getToken({ skipCache: true });
      }
      return tokenOptions === undefined ? getToken() : getToken(tokenOptions);
    },
    fetcher<TArgs extends unknown[], TResult>(call: (...args: TArgs) => Promise<TResult>) {
      return async (...args: TArgs): Promise<TResult | ReverificationHint> => {
        // The call after a hint is useReverification's retry, once the user has verified: mint a fresh token for it.
        if (hinted) freshNext = true;
        hinted = false;
        let hint: ReverificationHint | null;
        try {
          const result = await call(...args);
          hint = result instanceof Response ? await hintOfResponse(result) : null;
          if (hint === null) return result;
          await (result as Response).body?.cancel().catch(() => undefined);
        } catch (error) {
          hint = reverificationHintOf(error);
          if (hint === null) throw error;
        }
        hinted = true;
        return hint;
      };
    },
  };
}
