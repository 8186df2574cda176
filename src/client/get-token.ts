/**
 * Where the client gets its Clerk session token: Clerk's own `getToken` (from `useAuth()`,
 * `window.Clerk.session`, or `@clerk/backend`'s auth object), or any function with that shape.
 * `skipCache: true` asks for a freshly minted token.
 *
 * @example
 * ```ts
 * import { useAuth } from '@clerk/clerk-react';
 * const { getToken } = useAuth();
 * const source: TokenGetter = getToken;
 * ```
 */
export type TokenGetter = (options?: { skipCache?: boolean }) => Promise<string | null | undefined> | string | null | undefined;

/** Calls the getter; a getter that throws means "no token" for this call. @internal */
export async function readToken(getToken: TokenGetter, skipCache: boolean): Promise<string | null> {
  try {
    const token = await (skipCache ? getToken({ skipCache: true }) : getToken());
    return typeof token === 'string' && token.length > 0 ? token : null;
  } catch {
    return null;
  }
}
