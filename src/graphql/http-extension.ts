import { GraphQLError } from 'graphql';

/**
 * The same error without `extensions.http` (the status and headers a whole rejection asks the HTTP
 * server for), for transports where no HTTP server reads it and it would reach the client as is: a
 * WebSocket message, or a server that does not honour the convention. `whole` drops the path too: a
 * rejection is the operation's, not one field's.
 *
 * @internal
 */
export function withoutHttp(error: GraphQLError, whole = false): GraphQLError {
  const extensions = error.extensions as Record<string, unknown> | undefined;
  if (extensions === undefined || !('http' in extensions)) return error;
  const { http: _http, ...rest } = extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: whole ? undefined : error.path,
    originalError: error.originalError,
    extensions: rest,
  });
}

/**
 * Whether GraphQL Yoga answers this context's operation over HTTP (its context then holds the web
 * `Request`), where it turns `extensions.http` into the response's status and headers and strips it.
 * Anything else (graphql-ws, which hands its own connection context) would send it to the client.
 *
 * @internal
 */
export function answersOverHttp(context: unknown): boolean {
  if (typeof context !== 'object' || context === null) return false;
  const request = (context as { request?: unknown }).request;
  if (typeof request !== 'object' || request === null) return false;
  const headers = (request as { headers?: unknown }).headers;
  return typeof headers === 'object' && headers !== null && typeof (headers as { get?: unknown }).get === 'function';
}
