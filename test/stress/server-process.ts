/**
 * One reference server in its own process, for the load test to measure its memory on its own:
 *
 *   node --expose-gc --import tsx test/stress/server-process.ts trpc|graphql
 *
 * Configured from the environment only (as deployed). Talks to its parent over IPC:
 * - sends `{ type: 'ready', url }` once listening;
 * - answers `{ type: 'memory', gc }` with `process.memoryUsage()` (after a full GC when asked);
 * - answers `{ type: 'log' }` with what its access log saw: lines per status, and how many lines
 *   looked like they carried a credential (there must be none).
 * Exits on SIGTERM or when its parent goes away.
 */
import { startGraphQLServer } from '../../examples/graphql-yoga/server.js';
import { startTrpcServer } from '../../examples/trpc/server.js';

type Request = { type: 'memory'; gc: boolean } | { type: 'log' };

const kind = process.argv[2];
if (kind !== 'trpc' && kind !== 'graphql') throw new Error('usage: server-process.ts trpc|graphql');
if (typeof process.send !== 'function') throw new Error('server-process.ts must be started with an IPC channel');
const send = process.send.bind(process);

const byStatus: Record<string, number> = {};
let lines = 0;
let credentialLike = 0;
const log = (line: string): void => {
  lines += 1;
  const status = / (\d{3}) /.exec(line)?.[1] ?? 'unknown';
  byStatus[status] = (byStatus[status] ?? 0) + 1;
  // A JWT (its base64url header), a bearer credential or a secret key.
  if (/eyJ|Bearer|sk_(test|live)_/.test(line)) credentialLike += 1;
};

const server = kind === 'trpc' ? await startTrpcServer({ port: 0, log }) : await startGraphQLServer({ port: 0, log });

process.on('message', (message: Request) => {
  if (message.type === 'memory') {
    if (message.gc) {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
    }
    send({ type: 'memory', usage: process.memoryUsage() });
  } else if (message.type === 'log') {
    send({ type: 'log', lines, byStatus, credentialLike });
  }
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void server.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
send({ type: 'ready', url: server.url });
