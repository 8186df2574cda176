import { runAt } from '../core/internal.js';
import type { CredentialTimes } from './state.js';

/** The part of a `ws` WebSocket this module uses. @internal */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  once(event: 'close', listener: () => void): unknown;
}

const OPEN = 1;

/** Whether the adapter's `res` is a WebSocket (`applyWSSHandler`) rather than an HTTP response. @internal */
export function asWebSocket(res: unknown): WebSocketLike | null {
  if (res === null || typeof res !== 'object') return null;
  const candidate = res as Partial<Record<'send' | 'once' | 'setHeader' | 'readyState', unknown>>;
  if (typeof candidate.send !== 'function' || typeof candidate.once !== 'function') return null;
  if (typeof candidate.readyState !== 'number' || typeof candidate.setHeader === 'function') return null;
  return res as WebSocketLike;
}

/**
 * Encodes tRPC's WebSocket messages, for the `reconnect` notice; tRPC's default is JSON. Pass the
 * same encoder as `applyWSSHandler`'s `experimental_encoder`.
 *
 * @example
 * ```ts
 * import { jsonEncoder } from '@trpc/server/adapters/ws';
 * const encoder: WebSocketEncoder = jsonEncoder;
 * createClerkContext(clerkAuth, { webSocketEncoder: encoder });
 * ```
 */
export interface WebSocketEncoder {
  encode(message: unknown): string | Uint8Array;
}

const jsonEncoder: WebSocketEncoder = { encode: (message) => JSON.stringify(message) };

/**
 * A WebSocket connection is authenticated once, when it opens. Shortly before its token expires,
 * send tRPC's own `reconnect` notification: `wsLink` then opens a new connection (calling an async
 * `connectionParams` getter again, or re-sending a browser's refreshed `__session` cookie), moves
 * its subscriptions to it, and closes this one. A client that comes back with the same token gets
 * no second notice and its subscriptions end with `UNAUTHORIZED` at expiry.
 *
 * The notice goes `min(refreshMs, lifetime / 2)` before `exp`, and only if that moment is still
 * ahead: a connection opened later than that already carries the freshest token its client had.
 *
 * @internal
 */
export function scheduleReconnectNotice(ws: WebSocketLike, times: CredentialTimes, refreshMs: number, encoder: WebSocketEncoder = jsonEncoder): void {
  const lifetime = times.issuedAt === null ? Number.POSITIVE_INFINITY : times.expiresAt - times.issuedAt;
  const at = times.expiresAt - Math.min(refreshMs, lifetime / 2);
  if (!(at > Date.now())) return;
  const cancel = runAt(at, () => {
    if (ws.readyState !== OPEN) return;
    try {
      ws.send(encoder.encode({ id: null, method: 'reconnect' }));
    } catch {
      // The socket is closing; its subscriptions end on their own.
    }
  });
  ws.once('close', cancel);
}
