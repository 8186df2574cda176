/**
 * The signature backends decide alike: `node:crypto` on libuv's thread pool (Node's default), the same
 * on the main thread, and WebCrypto (Deno, Bun, workerd) give the same answer for every signature in
 * one corpus — valid, tampered, truncated, empty, over-long, under the wrong hash, under a broken or
 * foreign key — and on Node the runtime's choice is `node:crypto`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeRsaVerifier, rsaVerifier, webCryptoRsaVerifier, type RsaHash } from '../../src/core/rsa-verify.js';

const nodeCrypto = process.getBuiltinModule('node:crypto');
const pool = nodeRsaVerifier(nodeCrypto);
const mainThread = nodeRsaVerifier(nodeCrypto, 'main-thread');
const web = webCryptoRsaVerifier();

const rsa = (bits: number): JsonWebKey & { private: import('node:crypto').KeyObject } => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), private: privateKey };
};
const key2048 = rsa(2048);
const key3072 = rsa(3072);
const other = rsa(2048);
const data = new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ');
const HASHES: RsaHash[] = ['SHA-256', 'SHA-384', 'SHA-512'];
const nodeHash = (hash: RsaHash) => `sha${hash.slice(4)}`;
const jwkOf = ({ kty, n, e }: JsonWebKey): JsonWebKey => ({ kty, n, e });

interface Case {
  name: string;
  jwk: JsonWebKey;
  hash: RsaHash;
  signature: Uint8Array;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const key of [key2048, key3072]) {
    const bits = key === key2048 ? 2048 : 3072;
    const jwk = jwkOf(key);
    for (const hash of HASHES) {
      const good = new Uint8Array(sign(nodeHash(hash), data, key.private));
      const flipped = good.slice();
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
      cases.push(
        { name: `${bits} ${hash} valid`, jwk, hash, signature: good },
        { name: `${bits} ${hash} last bit flipped`, jwk, hash, signature: flipped },
        { name: `${bits} ${hash} truncated`, jwk, hash, signature: good.subarray(0, good.length - 1) },
        { name: `${bits} ${hash} one byte too long`, jwk, hash, signature: new Uint8Array([...good, 0]) },
        { name: `${bits} ${hash} leading zero`, jwk, hash, signature: new Uint8Array([0, ...good]) },
        { name: `${bits} ${hash} empty`, jwk, hash, signature: new Uint8Array(0) },
        { name: `${bits} ${hash} all zero`, jwk, hash, signature: new Uint8Array(good.length) },
        { name: `${bits} ${hash} all 0xff`, jwk, hash, signature: new Uint8Array(good.length).fill(0xff) },
        { name: `${bits} ${hash} by another key`, jwk: jwkOf(other), hash, signature: good },
      );
      for (const wrong of HASHES.filter((h) => h !== hash)) cases.push({ name: `${bits} signed ${hash}, checked ${wrong}`, jwk, hash: wrong, signature: good });
    }
  }
  const good = new Uint8Array(sign('sha256', data, key2048.private));
  const broken: Array<[string, JsonWebKey]> = [
    ['modulus not base64url', { kty: 'RSA', n: '***', e: 'AQAB' }],
    ['empty modulus', { kty: 'RSA', n: '', e: 'AQAB' }],
    ['no exponent', { kty: 'RSA', n: key2048.n } as JsonWebKey],
    ['an EC key', { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }],
  ];
  for (const [name, jwk] of broken) cases.push({ name, jwk, hash: 'SHA-256', signature: good });
  return cases;
}

describe('signature backends', () => {
  it('node:crypto (thread pool and main thread) and WebCrypto give the same answer on every case of the corpus', async () => {
    const cases = corpus();
    const answers = await Promise.all(
      cases.map(async (c) => {
        const [fromPool, fromMain, fromWeb] = await Promise.all([pool, mainThread, web].map((verifier) => verifier.verify(c.jwk, c.hash, c.signature, data)));
        return [c.name, fromPool, fromMain, fromWeb] as const;
      }),
    );
    for (const [name, fromPool, fromMain, fromWeb] of answers) {
      expect(fromPool, name).toBe(fromWeb);
      expect(fromMain, name).toBe(fromWeb);
    }
    // The corpus is not vacuous: it holds accepted, refused and unusable-key answers.
    const seen = new Set(answers.map(([, fromNode]) => String(fromNode)));
    expect([...seen].sort()).toEqual(['false', 'true', 'undefined']);
    expect(answers.filter(([, fromNode]) => fromNode === true)).toHaveLength(6);
  });

  it('node:crypto on the main thread settles without a promise, and imports each JWK once', () => {
    const jwk = jwkOf(key2048);
    const signature = new Uint8Array(sign('sha256', data, key2048.private));
    let imports = 0;
    const counting = nodeRsaVerifier(
      {
        createPublicKey: (input: { key: { kty: string; n: string; e: string }; format: 'jwk' }) => {
          imports += 1;
          return nodeCrypto.createPublicKey(input as never);
        },
        verify: nodeCrypto.verify as never,
      },
      'main-thread',
    );
    for (let i = 0; i < 5; i++) expect(counting.verify(jwk, 'SHA-256', signature, data)).toBe(true);
    expect(counting.verify(jwk, 'SHA-256', signature.subarray(1), data)).toBe(false);
    expect(imports).toBe(1);
  });

  it('node:crypto on the thread pool and WebCrypto answer through a promise', async () => {
    const onPool = pool.verify(jwkOf(key2048), 'SHA-256', new Uint8Array(sign('sha256', data, key2048.private)), data);
    expect(onPool).toBeInstanceOf(Promise);
    expect(await onPool).toBe(true);
    const pending = web.verify(jwkOf(key2048), 'SHA-256', new Uint8Array(sign('sha256', data, key2048.private)), data);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(true);
  });

  it('Node itself picks node:crypto', () => {
    expect(rsaVerifier().backend).toBe('node:crypto');
  });
});
