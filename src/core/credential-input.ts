import type { AuthenticateInput, ConnectionInput, NodeLikeRequest } from './types.js';

type RequestLike = Request | NodeLikeRequest;

/**
 * What `authenticate` should read for whatever a server hands an integration, so that tRPC and
 * GraphQL read credentials by the same rule (`readCredential`):
 * - a web `Request`, a Node request or anything with object `headers` (read as is), a token string,
 *   or `null` / `undefined`;
 * - a framework request wrapping Node's (Fastify's `request.raw`) → the Node request, whose raw
 *   headers show a second `Authorization` header that Node's `headers` object drops;
 * - an AWS Lambda event — API Gateway REST (v1), HTTP API (v2) or an Application Load Balancer's —
 *   or an object holding one as `event` (tRPC's aws-lambda adapter, `{ event, context, info }`) →
 *   the request it describes (`lambdaEventRequest`);
 * - a graphql-ws context `{ connectionParams, extra: { request } }` (also `req` / `request` beside
 *   `connectionParams`) → a `ConnectionInput` with the upgrade request;
 * - tRPC's `createContext` options `{ req, info: { connectionParams } }` (or `{ event, info }`) → a
 *   `ConnectionInput`;
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
    if (isLambdaEvent(value)) return lambdaEventRequest(value);
    if (isRequestLike(value)) return nodeRequestOf(value);
    const context = value as Record<string, unknown>;
    if ('connectionParams' in context) {
      const extra = context.extra;
      const upgrade = (isObject(extra) ? requestIn(extra.request) : null) ?? requestIn(context.req) ?? requestIn(context.request);
      return connection(context.connectionParams, upgrade);
    }
    const info = context.info;
    if (isObject(info) && 'connectionParams' in info) {
      return connection(info.connectionParams, requestIn(context.req) ?? requestIn(context.request) ?? eventIn(context.event));
    }
    return requestIn(context.request) ?? requestIn(context.req) ?? eventIn(context.event);
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
  return isObject(value) && isRequestLike(value) ? nodeRequestOf(value) : null;
}

function eventIn(value: unknown): NodeLikeRequest | null {
  return isObject(value) && isLambdaEvent(value) ? lambdaEventRequest(value) : null;
}

/**
 * A framework's request that wraps Node's (Fastify: `request.raw`) reads as the Node request: its
 * `rawHeaders` list every header line, where the `headers` object keeps only the first
 * `Authorization` — a second credential would otherwise go unseen.
 */
function nodeRequestOf(value: RequestLike): RequestLike {
  if (Array.isArray((value as NodeLikeRequest).rawHeaders)) return value;
  const raw = (value as { raw?: unknown }).raw;
  return isObject(raw) && Array.isArray(raw.rawHeaders) && isRequestLike(raw) ? (raw as unknown as NodeLikeRequest) : value;
}

/**
 * The parts of an AWS Lambda event for an HTTP request that carry its credential: API Gateway REST
 * APIs (payload v1: `headers` with the last value of each name, `multiValueHeaders` with all of them,
 * names as the client sent them), HTTP APIs and function URLs (payload v2: lower-case `headers`,
 * repeated headers joined by commas, cookies moved to `cookies`), and Application Load Balancers
 * (`headers` or, with multi-value headers on, `multiValueHeaders`; names as sent).
 *
 * @internal
 */
export interface LambdaHttpEvent {
  /** Request headers (v1 and ALB: names as sent; v2: lower-case). */
  headers?: Readonly<Record<string, string | undefined>> | null;
  /** v1 and multi-value ALB: every value of every header. */
  multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
  /** v2: the request's cookies, one `name=value` each. */
  cookies?: readonly string[] | null;
  /** API Gateway's `domainName` (the host the client called); ALB's `elb`. */
  requestContext?: { readonly domainName?: string | undefined; readonly elb?: unknown } | null;
}

/** Whether a value is a Lambda HTTP event: a `requestContext` object beside `headers` or `multiValueHeaders`. */
function isLambdaEvent(value: object): value is LambdaHttpEvent {
  const event = value as Record<string, unknown>;
  return isObject(event.requestContext) && (isObject(event.headers) || isObject(event.multiValueHeaders));
}

/**
 * The request a Lambda event describes, as the core's credential reader reads plain-object headers
 * (names in any case, an array for a repeated header):
 * - `multiValueHeaders` first (every value: two `Authorization` headers are two credentials), then
 *   the `headers` whose name (in any case) `multiValueHeaders` does not have;
 * - v2 `cookies` become one `Cookie` header (`; `-joined, after any `cookie` header);
 * - without a `Host` header, API Gateway's `requestContext.domainName` is the host, so that the
 *   `__session` cookie's same-origin rule compares `Origin` with the host the client called.
 *
 * @internal
 */
export function lambdaEventRequest(event: LambdaHttpEvent): NodeLikeRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  const names = new Set<string>();
  const multi = event.multiValueHeaders;
  if (isObject(multi)) {
    for (const name of Object.keys(multi)) {
      const values = multi[name];
      if (values === undefined || values === null) continue;
      headers[name] = Array.isArray(values) ? [...(values as string[])] : (values as unknown as string);
      names.add(name.toLowerCase());
    }
  }
  const single = event.headers;
  if (isObject(single)) {
    for (const name of Object.keys(single)) {
      if (names.has(name.toLowerCase())) continue;
      headers[name] = single[name];
    }
  }
  const cookies = event.cookies;
  if (Array.isArray(cookies) && cookies.length > 0) {
    const joined = cookies.map(String).join('; ');
    const existing = headers.cookie;
    headers.cookie = existing === undefined ? joined : [...(Array.isArray(existing) ? existing : [existing]), joined];
  }
  const domain = event.requestContext?.domainName;
  if (typeof domain === 'string' && domain !== '' && !Object.keys(headers).some((name) => name.toLowerCase() === 'host')) headers.host = domain;
  return { headers };
}
