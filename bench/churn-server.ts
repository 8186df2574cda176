/**
 * The token-churn benchmark server, in its own process: `node --import tsx bench/churn-server.ts <variant>`.
 * A bare node:http handler answering `GET /whoami` with 200 `{ userId }` when signed in, 401 otherwise:
 * - `ours`: `createClerkAuth({ jwtKey })` + `clerkAuth.authenticate(req)`, default cache;
 * - `clerk`: `clerkClient.authenticateRequest()` on every request (headers copied into a web Request,
 *   as in bench/http-server.ts).
 *
 * `GET /__stats` (no authentication) answers how the event loop did since the last call and resets:
 * `monitorEventLoopDelay({ resolution: 1 })` is a native libuv timer due every 1 ms, so its longest
 * interval minus that 1 ms is the longest time the loop could not run a callback (a stall), measured
 * without adding JavaScript work per request; `eventLoopUtilization()` gives how busy the loop was.
 * Keys come from CLERK_JWT_KEY / CLERK_SECRET_KEY / CLERK_PUBLISHABLE_KEY. Prints `listening <port>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createClerkClient } from '@clerk/backend';
import { createClerkAuth } from 'clerk-api-auth';

type Variant = 'ours' | 'clerk';
const variant = process.argv[2] as Variant;
if (variant !== 'ours' && variant !== 'clerk') throw new Error('usage: churn-server.ts ours|clerk');

const clerk = createClerkClient({
  jwtKey: process.env.CLERK_JWT_KEY,
  secretKey: process.env.CLERK_SECRET_KEY,
  publishableKey: process.env.CLERK_PUBLISHABLE_KEY,
  telemetry: { disabled: true },
});
const clerkAuth = createClerkAuth({ jwtKey: process.env.CLERK_JWT_KEY });

/** The user id `authenticateRequest` finds in a Node request (headers copied into a web Request, as its docs require). */
async function clerkUserId(req: IncomingMessage): Promise<string | null> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  const state = await clerk.authenticateRequest(new Request(`http://localhost${req.url}`, { headers }));
  return state.isAuthenticated ? (state.toAuth()?.userId ?? null) : null;
}

async function oursUserId(req: IncomingMessage): Promise<string | null> {
  const { auth } = await clerkAuth.authenticate(req);
  return auth.tokenType === 'session_token' && auth.isAuthenticated ? auth.userId : null;
}

const RESOLUTION_MS = 1;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
let busySince: EventLoopUtilization = performance.eventLoopUtilization();

/** The event loop since the last call (ms), then starts afresh. */
function stats() {
  const busy = performance.eventLoopUtilization(busySince);
  busySince = performance.eventLoopUtilization();
  const ms = (ns: number) => ns / 1e6;
  const result = {
    maxStallMs: delay.count === 0 ? 0 : Math.max(0, ms(delay.max) - RESOLUTION_MS),
    p99DelayMs: delay.count === 0 ? 0 : ms(delay.percentile(99)),
    samples: delay.count,
    utilization: busy.utilization,
  };
  delay.reset();
  return result;
}

const userId = variant === 'ours' ? oursUserId : clerkUserId;
function answer(res: ServerResponse, id: string | null): void {
  res.writeHead(id === null ? 401 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(id === null ? { error: 'unauthenticated' } : { userId: id }));
}

const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats()));
    return;
  }
  userId(req).then(
    (id) => answer(res, id),
    () => {
      res.writeHead(500).end(); // never expected: the bench counts it as an error
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
});
