/**
 * In-process benchmark of the core (tinybench), reported as ratios measured in one run:
 * `authenticate()` hot (cache hit) and cold (full verification) vs @clerk/backend's
 * `authenticateRequest` vs the raw RS256 verify floors (WebCrypto; node:crypto on the main thread and on
 * libuv's thread pool, where the package verifies on Node); then heap growth after 100,000 distinct
 * tokens at the default cache size.
 *
 *   npx tsx bench/core.ts            (part of `npm run bench`)
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';
import { createClerkClient } from '@clerk/backend';
import { Bench } from 'tinybench';
import { medianUs as median } from './median.js';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer } from 'clerk-api-auth/testing';

const signAsync = promisify(sign);

export interface Row {
  name: string;
  medianUs: number;
  ratio: string;
}


export async function benchAuthenticate(): Promise<Row[]> {
  const issuer = await createTestIssuer();
  const token = await issuer.sessionToken({ userId: 'user_1', org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create'] }, expiresInSeconds: 3600 });
  const hot = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  const cold = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, cache: false });
  const clerk = createClerkClient({ jwtKey: issuer.jwtKey, secretKey: issuer.secretKey, publishableKey: issuer.publishableKey, telemetry: { disabled: true } });
  // One request object, as a server hands the same kind of object to every call: this measures
  // authentication, not Request construction.
  const prebuilt = new Request('http://localhost/api', { headers: { authorization: `Bearer ${token}` } });
  const request = () => prebuilt;
  const [h = '', p = '', s = ''] = token.split('.');
  const data = new TextEncoder().encode(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const jwk = issuer.jwks.keys[0] as JsonWebKey;
  const cryptoKey = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  const keyObject = createPublicKey({ key: jwk as never, format: 'jwk' });

  const bench = new Bench({ time: 2000, warmup: true });
  bench
    .add('authenticateRequest (@clerk/backend)', async () => {
      (await clerk.authenticateRequest(request())).toAuth();
    })
    .add('authenticate() cold (no cache)', async () => {
      await cold.authenticate(request());
    })
    .add('authenticate() hot (cache hit)', async () => {
      await hot.authenticate(request());
    })
    .add('floor: WebCrypto RS256 verify, key imported', async () => {
      await crypto.subtle.verify('RSASSA-PKCS1-v1_5', cryptoKey, signature, data);
    })
    .add('floor: node:crypto RS256 verify, KeyObject', () => {
      verify('sha256', data, keyObject, signature);
    })
    .add('floor: node:crypto RS256 verify on the thread pool, KeyObject', async () => {
      await new Promise<boolean>((resolve, reject) => verify('sha256', data, keyObject, signature, (error, valid) => (error ? reject(error) : resolve(valid))));
    });
  await bench.run();
  const base = median(bench.tasks[0] as never);
  return bench.tasks.map((task) => {
    const us = median(task as never);
    return { name: task.name, medianUs: us, ratio: `${(us / base).toFixed(3)}×` };
  });
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Heap growth after authenticating `count` distinct valid tokens with the default cache. */
export async function benchMemory(count = 100_000): Promise<{ tokens: number; heapGrowthMb: number; retainedAfterGcMb: number }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const clerkAuth = createClerkAuth({ env: {}, jwtKey: pem });
  const header = b64({ alg: 'RS256', typ: 'JWT', kid: 'ins_bench', cat: 'cl_B7d4PD111AAA' });
  const now = Math.floor(Date.now() / 1000);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const token = async (i: number): Promise<string> => {
    const payload = b64({
      iss: 'https://clerk.bench.test', sub: `user_${i}`, sid: `sess_${i}`, iat: now, nbf: now - 5, exp: now + 3600, v: 2, sts: 'active',
      azp: 'http://localhost:3000', fva: [0, -1], o: { id: `org_${i % 50}`, rol: 'member', per: 'read,create', fpm: '3' }, fea: 'o:notes',
    });
    const signature = await signAsync('sha256', Buffer.from(`${header}.${payload}`), key);
    return `${header}.${payload}.${signature.toString('base64url')}`;
  };
  // Signing is most of the time: sign the next batch on libuv's thread pool (every core) while
  // this thread authenticates the current one.
  const BATCH = 500;
  const batch = (from: number) => Promise.all(Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => token(from + k)));
  let next = batch(0);
  for (let from = 0; from < count; from += BATCH) {
    const tokens = await next;
    if (from + BATCH < count) next = batch(from + BATCH);
    for (const [k, jwt] of tokens.entries()) {
      const { reason } = await clerkAuth.authenticate(jwt);
      if (reason !== null) throw new Error(`token ${from + k} refused: ${reason}`);
    }
  }
  const grown = process.memoryUsage().heapUsed;
  gc?.();
  const after = process.memoryUsage().heapUsed;
  // Keep the instance (and so its cache) alive until after the measurement.
  if ((await clerkAuth.authenticate(null)).reason !== 'token-missing') throw new Error('unreachable');
  return { tokens: count, heapGrowthMb: (grown - before) / 2 ** 20, retainedAfterGcMb: (after - before) / 2 ** 20 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchAuthenticate());
  console.table([await benchMemory()]);
}
