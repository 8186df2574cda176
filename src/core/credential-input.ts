import type { AuthenticateInput, ConnectionInput, NodeLikeRequest } from './types.js';

type RequestLike = Request | NodeLikeRequest;

/**
 * What `authenticate` should read for whatever a server hands an integration, so that tRPC and
 * GraphQL read credentials by the same rule (`readCredential`):
 * - a web `Request`, a Node request or anything with object `headers` (read as is), a token string,
 *   or `null` / `undefined`;
 * - a graphql-ws context `{ connectionParams, extra: { request } }` (also `req` / `request` beside
 *   `connectionParams`) → a `ConnectionInput` with the upgrade request;
 * - tRPC's `createContext` options `{ req, info: { connectionParams } }` → a `ConnectionInput`;
 * - a GraphQL Yoga context `{ request }`, an Apollo / Express-style context `{ req }` → that request.
 *
 * Anything else has no credential (`null`); a context that throws when read is refused as
 * malformed. Never throws.
 *
 * @internal
 */
export function credentialInputOf(value: unknown): AuthenticateInput {
  try {
    if (value === null || value === undefined || typeof value === 'string') return value;
    if (typeof value !== 'object') return null;
    if (isRequestLike(value)) return value;
    const context = value as Record<string, unknown>;
    if ('connectionParams' in context) {
      const extra = context.extra;
      const upgrade = (isObject(extra) ? requestIn(extra.request) : null) ?? requestIn(context.req) ?? requestIn(context.request);
      return connection(context.connectionParams, upgrade);
    }
    const info = context.info;
    if (isObject(info) && 'connectionParams' in info) {
      return connection(info.connectionParams, requestIn(context.req) ?? requestIn(context.request));
    }
    return requestIn(context.request) ?? requestIn(context.req);
  } catch {
    return UNREADABLE;
  }
}

/**
 * What a context that throws when read (hostile getters) maps to: a connection parameter that is not
 * a string, which `readCredential` refuses as `malformed-authorization-header`, never anonymous.
 */
const UNREADABLE: ConnectionInput = Object.freeze({ connectionParams: Object.freeze({ token: Symbol('unreadable') }) });

function connection(params: unknown, request: RequestLike | null): ConnectionInput {
  return { connectionParams: isObject(params) ? (params as Readonly<Record<string, unknown>>) : null, request };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isRequestLike(value: object): value is RequestLike {
  const headers = (value as { headers?: unknown }).headers;
  return typeof headers === 'object' && headers !== null;
}

function requestIn(value: unknown): RequestLike | null {
  return isObject(value) && isRequestLike(value) ? value : null;
}
