import type { RsaPublicJwk } from './jwt-key.js';

/** Why a key could not be resolved. @internal */
export type KeyFailure = 'jwk-kid-mismatch' | 'clerk-api-unavailable' | 'secret-key-invalid';

/** A key, or why there is none. @internal */
export type KeyLookup = { key: JsonWebKey } | { failure: KeyFailure };

/** Resolves the verification key for a token's `kid`. @internal */
export interface KeyResolver {
  resolve(kid: string | undefined): Promise<KeyLookup> | KeyLookup;
}

/** Networkless: the configured JWT public key, whatever the kid. @internal */
export function localKeyResolver(jwk: RsaPublicJwk): KeyResolver {
  const found: KeyLookup = { key: jwk };
  return { resolve: () => found };
}

interface RemoteOptions {
  apiUrl: string;
  apiVersion: string;
  secretKey: string;
  timeoutMs: number;
  /** Keys are refetched after this long. Default 5 minutes. */
  ttlMs?: number;
  /** At most one refetch per this interval for an unknown kid or after a failure. Default 10 s on unknown kid, 1 s after failure. */
  unknownKidCooldownMs?: number;
  failureCooldownMs?: number;
}

/**
 * Keys from the Backend API's `/jwks`, fetched with the secret key. Concurrent cold requests share
 * one fetch; each fetch has a timeout; an unknown `kid` triggers at most one refetch per cooldown
 * instead of one per request; a failed fetch is not retried by every request that follows. Once the
 * keys' TTL lapses, a known `kid` keeps answering from them while they are refreshed in the background.
 *
 * @internal
 */
export function remoteKeyResolver(options: RemoteOptions): KeyResolver {
  const ttl = options.ttlMs ?? 5 * 60_000;
  const unknownKidCooldown = options.unknownKidCooldownMs ?? 10_000;
  const failureCooldown = options.failureCooldownMs ?? 1000;
  const url = new URL(options.apiUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${options.apiVersion}/jwks`;
  const href = url.href;

  let keys = new Map<string, JsonWebKey>();
  let fetchedAt = -Infinity;
  let lastAttemptAt = -Infinity;
  let lastFailure: KeyFailure | undefined;
  let inflight: Promise<void> | undefined;

  async function fetchKeys(): Promise<void> {
    lastAttemptAt = Date.now();
    try {
      const response = await fetch(href, {
        headers: { authorization: `Bearer ${options.secretKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        lastFailure = 'secret-key-invalid';
        return;
      }
      if (!response.ok) {
        await response.body?.cancel();
        lastFailure = 'clerk-api-unavailable';
        return;
      }
      const body = (await response.json()) as { keys?: unknown };
      const next = new Map<string, JsonWebKey>();
      if (Array.isArray(body?.keys)) {
        for (const key of body.keys as Array<JsonWebKey & { kid?: unknown }>) {
          if (key && typeof key === 'object' && typeof key.kid === 'string' && key.kty === 'RSA') next.set(key.kid, key);
        }
      }
      if (next.size === 0) {
        lastFailure = 'clerk-api-unavailable';
        return;
      }
      keys = next;
      fetchedAt = Date.now();
      lastFailure = undefined;
    } catch {
      lastFailure = 'clerk-api-unavailable';
    }
  }

  function refresh(): Promise<void> {
    inflight ??= fetchKeys().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function lookup(kid: string | undefined): KeyLookup {
    const key = kid === undefined ? undefined : keys.get(kid);
    if (key) return { key };
    if (lastFailure && keys.size === 0) return { failure: lastFailure };
    return { failure: 'jwk-kid-mismatch' };
  }

  return {
    resolve(kid) {
      const now = Date.now();
      const fresh = now - fetchedAt < ttl;
      const known = kid !== undefined && keys.has(kid);
      const sinceAttempt = now - lastAttemptAt;
      if (known) {
        // Stale-while-revalidate: a kid we hold answers at once; a lapsed TTL refreshes in the
        // background, so a slow or hung Backend API never holds up requests whose key is known.
        if (!fresh && !inflight && sinceAttempt >= (lastFailure ? failureCooldown : 0)) void refresh();
        return lookup(kid);
      }
      if (inflight) return inflight.then(() => lookup(kid));
      const cooldown = lastFailure ? failureCooldown : fresh ? unknownKidCooldown : 0;
      if (sinceAttempt < cooldown) return lookup(kid);
      return refresh().then(() => lookup(kid));
    },
  };
}
