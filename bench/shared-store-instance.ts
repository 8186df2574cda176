/**
 * One API-key server for bench/shared-store.ts: a bare `node:http` handler that authenticates an
 * `ak_` key with clerk-api-auth (the built package) and answers its subject, so the figures are the
 * verification path's and not a framework's. The variant (argv[2]) picks where verifications live:
 * `per-request` (acceptedTtlMs: 0, the Backend API on every request), `memory` (the default: this
 * process's own store), `redis` (createRedisStore on REDIS_URL, shared by every instance).
 * Prints `listening <port>`; `GET /metrics` answers `clerkAuth.metrics()`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkAuth } from 'clerk-api-auth';
import { createRedisStore } from 'clerk-api-auth/redis';

const variant = process.argv[2];
const env = process.env;
const store = variant === 'redis' ? createRedisStore({ url: env.REDIS_URL ?? '' }) : undefined;
const clerkAuth = createClerkAuth({
  env: {},
  secretKey: env.CLERK_SECRET_KEY,
  apiUrl: env.CLERK_API_URL,
  acceptsToken: 'api_key',
  ...(store && { store }),
  ...(variant === 'per-request' && { machineTokens: { acceptedTtlMs: 0 } }),
});

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...clerkAuth.metrics(), storeReady: store?.ready ?? null }));
    return;
  }
  void clerkAuth.authenticate(req).then((result) => {
    const check = clerkAuth.check(result, { token: 'api_key' });
    if (!check.ok) {
      res.writeHead(check.error.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: check.error.code }));
      return;
    }
    const auth = result.auth as { subject?: string };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: auth.subject }));
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void (store?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
