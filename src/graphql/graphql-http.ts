import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { resolveClerkAuth, type ClerkAuthSource } from '../core/internal.js';
import { createClerkGraphQLContext, type ClerkGraphQLContext } from './context.js';
import { clerkHttpResult, formattedBody } from './http-result.js';

/**
 * The request graphql-http hands its callbacks (the part `clerkGraphQLHttp` reads): its headers and
 * the server's own request. graphql-http's `Request` is one.
 *
 * @example
 * ```ts
 * const context = await clerkGraphQLHttp().http.context({ headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export interface GraphQLHttpRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>> | { get(name: string): string | null };
  /** The server's request (`IncomingMessage` with `graphql-http/lib/use/http`, `Request` with `.../use/fetch`). */
  readonly raw?: unknown;
}

/**
 * A graphql-http response, `[body, init]`: what `clerkGraphQLHttp().http.onOperation` returns for an
 * operation rejected whole.
 *
 * @example
 * ```ts
 * const answer = clerkGraphQLHttp().http.onOperation(request, args, result);
 * if (Array.isArray(answer)) console.log((answer as GraphQLHttpResponse)[1].status); // 401, 403, 400 or 503
 * ```
 */
export type GraphQLHttpResponse = readonly [body: string, init: { readonly status: number; readonly statusText: string; readonly headers: Record<string, string> }];

/**
 * What `clerkGraphQLHttp` returns: options to spread into graphql-http's `createHandler` (`http`) and
 * graphql-ws's `useServer` (`ws`), sharing one `ClerkAuth`.
 *
 * @example
 * ```ts
 * const clerk: ClerkGraphQLHttp = clerkGraphQLHttp();
 * const handler = createHandler({ schema, ...clerk.http });
 * ```
 */
export interface ClerkGraphQLHttp {
  readonly http: {
    /** graphql-http's `context`: `auth`, `clerk` and `signedOutReason` of the request's credential. */
    context(request: GraphQLHttpRequestLike): Promise<ClerkGraphQLContext & Record<PropertyKey, unknown>>;
    /**
     * graphql-http's `onOperation`: an operation the rules rejected whole answers its status (401,
     * 403, 400, 503) with `WWW-Authenticate` / `Retry-After`; every result leaves without
     * `extensions.http`.
     */
    onOperation(request: GraphQLHttpRequestLike, args: unknown, result: ExecutionResult): ExecutionResult | GraphQLHttpResponse | undefined;
  };
  readonly ws: {
    /** graphql-ws's `context`: read from `connectionParams` (`authorization` or `token`), else the upgrade request. */
    context(ctx: unknown): Promise<ClerkGraphQLContext>;
    /** graphql-ws's `onNext`: every result leaves without `extensions.http` (a WebSocket has no status). */
    onNext(ctx: unknown, id: unknown, payload: unknown, args: unknown, result: ExecutionResult): FormattedExecutionResult | undefined;
  };
}

/**
 * Clerk for `graphql-http` (and `graphql-ws` next to it, for subscriptions), with a schema from
 * `clerkDirectiveTransformer`. graphql-http answers every executed operation 200 by itself; its
 * `onOperation` hook is where the answer can change, so `http.onOperation` gives an operation the
 * rules rejected whole its status and headers — 401 `UNAUTHENTICATED` with
 * `WWW-Authenticate: Bearer` (`error="invalid_token"` when the token failed verification: expired,
 * forged...), 403 `FORBIDDEN` (`insufficient_scope`), 400 `INVALID_REQUEST`, 503 with `Retry-After`
 * — by the core's one precedence, in the content type graphql-http negotiated. Every other result
 * (partial data included) stays graphql-http's own 200. No error's `extensions.http` reaches the
 * client, over HTTP or WebSocket.
 *
 * `http.context` and `ws.context` read the credential as `createClerkGraphQLContext` does
 * (`Authorization: Bearer`, a same-origin `__session` cookie, graphql-ws `connectionParams`).
 * For a context of your own, spread theirs into it: `context: async (req) => ({ ...(await clerk.http.context(req)), db })`.
 * A response this helper builds does not go through graphql-http's `formatError`.
 *
 * @param options - A `ClerkAuth` from `createClerkAuth`, its options, or nothing (the `CLERK_*`
 *   environment). Invalid configuration throws here.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHandler } from 'graphql-http/lib/use/http';
 * import { useServer } from 'graphql-ws/use/ws';
 * import { WebSocketServer } from 'ws';
 * import { clerkDirectiveTransformer, clerkGraphQLHttp } from 'clerk-api-auth/graphql';
 *
 * const schema = clerkDirectiveTransformer(makeExecutableSchema({ typeDefs: [clerkDirectiveTypeDefs, typeDefs], resolvers }));
 * const clerk = clerkGraphQLHttp(); // CLERK_* from the environment
 * const server = createServer(createHandler({ schema, ...clerk.http }));
 * useServer({ schema, ...clerk.ws }, new WebSocketServer({ server, path: '/graphql' }));
 * server.listen(4000);
 * ```
 */
export function clerkGraphQLHttp(options?: ClerkAuthSource): ClerkGraphQLHttp {
  const { clerkAuth } = resolveClerkAuth(options, [], 'clerkGraphQLHttp');
  const clerkContext = createClerkGraphQLContext(clerkAuth);
  return {
    http: {
      // The server's own request first: a Node request shows every Authorization header it received.
      context: (request) => clerkContext(request.raw ?? request) as Promise<ClerkGraphQLContext & Record<PropertyKey, unknown>>,
      onOperation(request, _args, result) {
        if (result.errors === undefined || result.errors.length === 0) return undefined;
        const { status, headers, body } = clerkHttpResult(result);
        if (status === 200 && Object.keys(headers).length === 0) return body === result ? undefined : body;
        const contentType = negotiated(request.headers);
        return [JSON.stringify(body), { status, statusText: STATUS_TEXT[status] ?? '', headers: { ...headers, 'content-type': `${contentType}; charset=utf-8` } }];
      },
    },
    ws: {
      context: (ctx) => clerkContext(ctx),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors === undefined || result.errors.length === 0 ? undefined : formattedBody(result)),
    },
  };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The media type graphql-http answers in, by the same rule it applies (the first acceptable entry of
 * `Accept`): `application/graphql-response+json`, else `application/json`.
 */
function negotiated(headers: GraphQLHttpRequestLike['headers']): 'application/graphql-response+json' | 'application/json' {
  const raw = typeof headers.get === 'function' ? (headers as { get(name: string): string | null }).get('accept') : (headers as Readonly<Record<string, string | string[] | undefined>>).accept;
  const accept = (Array.isArray(raw) ? raw.join(',') : (raw ?? '*/*')).replace(/\s/g, '').toLowerCase();
  for (const entry of accept.split(',')) {
    const type = entry.split(';', 1)[0];
    if (type === 'application/graphql-response+json') return 'application/graphql-response+json';
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'application/json';
  }
  return 'application/json';
}
