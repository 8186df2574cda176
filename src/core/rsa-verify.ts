/**
 * RSASSA-PKCS1-v1_5 signature verification (RS256 / RS384 / RS512) with the fastest primitive the
 * runtime has, one key import per JWK:
 * - on Node, `node:crypto`'s one-shot `verify` with a cached `KeyObject`, on libuv's thread pool
 *   (BENCHMARKS.md, "Main thread or thread pool": over HTTP a server verifying every request's token
 *   on the pool served 1.23–1.27× the cold requests per second of one verifying on its main thread with
 *   the server on one CPU, 1.31–1.39× with two, in three runs; a lone verification pays the hop,
 *   ~20–40 µs);
 * - everywhere else (Deno, Bun, workerd, browsers, and Node releases without
 *   `process.getBuiltinModule`), WebCrypto's `crypto.subtle.verify`.
 *
 * `node:crypto` is reached through `process.getBuiltinModule`, never imported, so the bundle stays
 * loadable where there is no `node:crypto` at all. Both backends answer the same question the same way
 * (test/core/rsa-verify.test.ts runs one corpus through both): `true` a valid signature, `false` an
 * invalid one, `undefined` a key that cannot verify for that hash (the caller's
 * `token-verification-failed`).
 *
 * @internal
 */

/** The hash of an RS* algorithm. @internal */
export type RsaHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Verifies one signature; settles at once where the runtime allows. @internal */
export interface RsaVerifier {
  /** `'node:crypto'` or `'webcrypto'`: which primitive verifies. */
  readonly backend: 'node:crypto' | 'webcrypto';
  verify(jwk: JsonWebKey, hash: RsaHash, signature: Uint8Array, data: Uint8Array): boolean | undefined | Promise<boolean | undefined>;
}

/** The parts of `node:crypto` used here. @internal */
export interface NodeCrypto<Key = unknown> {
  createPublicKey(key: { key: { kty: string; n: string; e: string }; format: 'jwk' }): Key;
  verify(algorithm: string, data: Uint8Array, key: Key, signature: Uint8Array): boolean;
  verify(algorithm: string, data: Uint8Array, key: Key, signature: Uint8Array, callback: (error: Error | null, valid: boolean) => void): void;
}

const NODE_HASH: Record<RsaHash, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/**
 * `node:crypto` when this is Node itself. Other runtimes that emulate Node's API (Bun, Deno, workerd
 * with `nodejs_compat`) keep WebCrypto, their native primitive.
 */
function nodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { versions?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown } }).process;
  const versions = proc?.versions;
  if (typeof versions?.node !== 'string' || versions.bun !== undefined || versions.deno !== undefined) return undefined;
  if ((globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers') return undefined;
  try {
    const module = proc?.getBuiltinModule?.('node:crypto') as Partial<NodeCrypto> | undefined;
    return typeof module?.verify === 'function' && typeof module.createPublicKey === 'function' ? (module as NodeCrypto) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `node:crypto` verifier, on libuv's thread pool (the default, see above) or on the calling
 * thread. A JWK `createPublicKey` refuses (not RSA, a broken modulus) cannot verify anything; `verify`
 * itself failing (it does not for a bad signature, which is `false`) is treated the same way.
 *
 * @internal
 */
export function nodeRsaVerifier<Key>(crypto: NodeCrypto<Key>, where: 'thread-pool' | 'main-thread' = 'thread-pool'): RsaVerifier {
  const keys = new WeakMap<JsonWebKey, { key: Key } | null>();
  const keyOf = (jwk: JsonWebKey): { key: Key } | null => {
    let key = keys.get(jwk);
    if (key === undefined) {
      try {
        const { kty, n, e } = jwk;
        key = kty === 'RSA' && typeof n === 'string' && typeof e === 'string' ? { key: crypto.createPublicKey({ key: { kty, n, e }, format: 'jwk' }) } : null;
      } catch {
        key = null;
      }
      keys.set(jwk, key);
    }
    return key;
  };
  return {
    backend: 'node:crypto',
    verify(jwk, hash, signature, data) {
      const key = keyOf(jwk);
      if (key === null) return undefined;
      if (where === 'main-thread') {
        try {
          return crypto.verify(NODE_HASH[hash], data, key.key, signature);
        } catch {
          return undefined;
        }
      }
      return new Promise((resolve) => {
        try {
          crypto.verify(NODE_HASH[hash], data, key.key, signature, (error, valid) => resolve(error === null ? valid : undefined));
        } catch {
          resolve(undefined);
        }
      });
    },
  };
}

/**
 * The WebCrypto verifier: one `importKey` per JWK and hash, reused.
 *
 * @internal
 */
export function webCryptoRsaVerifier(subtle: SubtleCrypto = crypto.subtle): RsaVerifier {
  const keys = new WeakMap<JsonWebKey, Map<RsaHash, Promise<CryptoKey | undefined>>>();
  const keyOf = (jwk: JsonWebKey, hash: RsaHash, alg: string): Promise<CryptoKey | undefined> => {
    let byHash = keys.get(jwk);
    if (byHash === undefined) keys.set(jwk, (byHash = new Map()));
    let key = byHash.get(hash);
    if (key === undefined) {
      const { kty, n, e } = jwk;
      key = Promise.resolve()
        .then(() => subtle.importKey('jwk', { kty, n, e, alg }, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']))
        .catch(() => undefined);
      byHash.set(hash, key);
    }
    return key;
  };
  return {
    backend: 'webcrypto',
    async verify(jwk, hash, signature, data) {
      const key = await keyOf(jwk, hash, `RS${hash.slice(4)}`);
      if (key === undefined) return undefined;
      try {
        return await subtle.verify('RSASSA-PKCS1-v1_5', key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
      } catch {
        return undefined;
      }
    },
  };
}

let chosen: RsaVerifier | undefined;

/**
 * This runtime's verifier, chosen once: `node:crypto` on Node, WebCrypto elsewhere.
 *
 * @internal
 */
export function rsaVerifier(): RsaVerifier {
  if (chosen === undefined) {
    const node = nodeCrypto();
    chosen = node !== undefined ? nodeRsaVerifier(node) : webCryptoRsaVerifier();
  }
  return chosen;
}
