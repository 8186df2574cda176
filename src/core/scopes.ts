/**
 * Machine-token scopes are sets of whole values: a scope requirement holds only when one granted
 * value equals it exactly. A bare string is one value (never searched for substrings: an `aud` of
 * `"mch_billing_admin"` grants `mch_billing_admin`, not `admin` or `m`); anything that is not a
 * string is dropped.
 *
 * @internal
 */
export function scopeList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/**
 * The scopes of a verified M2M JWT, as `@clerk/backend`'s `M2MToken.fromJwtPayload` reads them (the
 * space-separated `scopes` claim, else `aud`), but always a list of strings: Clerk passes a string
 * `aud` through unchanged, which makes `scopes.includes(x)` a substring search. `undefined` when the
 * `scopes` claim is neither a string nor absent (Clerk throws on it).
 *
 * @internal
 */
export function m2mJwtScopes(payload: Record<string, unknown>): string[] | undefined {
  const { scopes, aud } = payload;
  if (scopes !== undefined && scopes !== null) return typeof scopes === 'string' ? scopes.split(' ') : undefined;
  return scopeList(aud);
}

/**
 * The scopes of a verified OAuth access token JWT, as `IdPOAuthAccessToken.fromJwtPayload` reads
 * them (`scp`, else the space-separated `scope`), always a list of strings (a string `scp` is one
 * value). `undefined` when `scope` is neither a string nor absent (Clerk throws on it).
 *
 * @internal
 */
export function oauthJwtScopes(payload: Record<string, unknown>): string[] | undefined {
  const { scp, scope } = payload;
  if (scp !== undefined && scp !== null) return scopeList(scp);
  if (scope === undefined || scope === null) return [];
  return typeof scope === 'string' ? scope.split(' ') : undefined;
}
