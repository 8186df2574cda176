/**
 * The cold-verification benchmark server, in its own process: `node --import tsx bench/cold-http-server.ts <variant>`.
 * Every request's bearer token is fully verified (RS256, no cache): the header and payload are decoded
 * (JSON.parse), the signature checked, and the answer is 200 `{ userId: sub }` (401 when it does not verify).
 * - `main`: `crypto.verify('sha256', data, keyObject, signature)`, synchronous, on the main thread;
 * - `pool`: `crypto.verify('sha256', data, keyObject, signature, callback)`, on libuv's thread pool;
 * - `webcrypto`: `crypto.subtle.verify` with a CryptoKey imported once (also off the main thread).
 * The KeyObject / CryptoKey is created once from the JWK in BENCH_JWK. `GET /__cpu` answers the process's
 * CPU time so far (all threads). Prints `listening <port>`.
 */
import { createPublicKey, verify, webcrypto, type JsonWebKey as NodeJwk } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Variant = 'main' | 'pool' | 'webcrypto';
const variant = process.argv[2] as Variant;
if (!['main', 'pool', 'webcrypto'].includes(variant)) throw new Error('usage: cold-http-server.ts main|pool|webcrypto');
const jwk = JSON.parse(process.env.BENCH_JWK ?? '{}') as NodeJwk;
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
const cryptoKey = await webcrypto.subtle.importKey('jwk', jwk as JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);

interface Decoded {
  data: Buffer;
  signature: Buffer;
  sub: string;
}

/** Splits and decodes a compact JWS; `null` when it is not an RS256 JWT with a string `sub`. */
function decode(authorization: string | undefined): Decoded | null {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return null;
  const token = authorization.slice(7);
  const [h, p, s, extra] = token.split('.');
  if (h === undefined || p === undefined || s === undefined || extra !== undefined) return null;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { sub?: unknown };
    if (header.alg !== 'RS256' || typeof payload.sub !== 'string') return null;
    return { data: Buffer.from(`${h}.${p}`, 'latin1'), signature: Buffer.from(s, 'base64url'), sub: payload.sub };
  } catch {
    return null;
  }
}

function answer(res: ServerResponse, userId: string | null): void {
  res.writeHead(userId === null ? 401 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(userId === null ? { error: 'unauthenticated' } : { userId }));
}

const server = createServer((req, res) => {
  if (req.url === '/__cpu') {
    // CPU time of the whole process (every thread, the pool's included), in µs.
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ cpuUs: user + system }));
  }
  const decoded = decode(req.headers.authorization);
  if (decoded === null) return answer(res, null);
  const { data, signature, sub } = decoded;
  if (variant === 'main') return answer(res, verify('sha256', data, keyObject, signature) ? sub : null);
  if (variant === 'pool') return void verify('sha256', data, keyObject, signature, (error, valid) => answer(res, error === null && valid ? sub : null));
  void webcrypto.subtle.verify('RSASSA-PKCS1-v1_5', cryptoKey, signature, data).then(
    (valid) => answer(res, valid ? sub : null),
    () => answer(res, null),
  );
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
});
