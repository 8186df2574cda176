import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError, type GraphQLResolveInfo } from 'graphql';
import { ClerkAuthConfigError, isClerkAuth, type ClerkAuth } from '../core/internal.js';
import { dedupeDenialErrors, deniedField, exposeClerkErrors, rejectionError } from '../graphql/errors.js';
import { clerkStateOf, decideOperation, fragmentsOf, type Decided } from '../graphql/execution.js';
import { httpOfExtensions } from '../graphql/http-result.js';
import type { Plan } from '../graphql/plan.js';
import { compileRules } from '../graphql/rules.js';

/**
 * Options of `clerkApolloPlugin`. Clerk's own options (keys, authorized parties...) belong to the
 * `ClerkAuth` that builds the context (`createClerkGraphQLContext`), not here.
 *
 * @example
 * ```ts
 * clerkApolloPlugin({ rejectUnauthorized: true });
 * clerkApolloPlugin({ clerkAuth, rejectUnauthorized: true });
 * ```
 */
export interface ClerkApolloPluginOptions {
  /**
   * Reject a whole query that selects any denied field (HTTP 401 / 403, no resolver runs) instead of
   * answering the allowed fields with each denied one null (HTTP 200). Default `false`. Mutations are
   * always rejected whole.
   */
  rejectUnauthorized?: boolean;
  /**
   * The authenticator whose settings (`appRoleClaim`, clock skew) the checks use. Default: the one
   * that built the context (`createClerkGraphQLContext`).
   */
  clerkAuth?: ClerkAuth;
}

const OWN_KEYS: ReadonlySet<string> = new Set(['rejectUnauthorized', 'clerkAuth']);

/**
 * The Apollo Server plugin (Apollo Server 5 and 4): enforces `@auth`, `@hasRole` and
 * `@hasPermission` (and `extensions.clerk` rules) on your schema as it is, decided once per field
 * node of each operation before it runs, with the same decisions as `useClerk`. The context must
 * come from `createClerkGraphQLContext` (it puts `auth`, `clerk` and `signedOutReason` on it).
 *
 * - An operation rejected whole — a mutation selecting anything denied, a query under
 *   `rejectUnauthorized`, any operation selecting a guarded field with a token that failed
 *   verification (expired, forged, wrong kind...) — runs no resolver and answers its status: 401
 *   (`UNAUTHENTICATED`, `WWW-Authenticate: Bearer`, with `error="invalid_token"` when a token was
 *   sent, so clients refresh and retry), 403 (`FORBIDDEN`, `insufficient_scope`), 400
 *   (`INVALID_REQUEST`), 503 (`CLERK_API_UNAVAILABLE`, `Retry-After`). The status and headers are
 *   set the way Apollo Server honours them (`extensions.http` with a `Map`), which Apollo strips
 *   from the response: nothing of it reaches the client's JSON. The error goes through your
 *   `formatError` and `didEncounterErrors` like any other.
 * - A query with denied fields runs the rest: each denied field is null with one error at its path
 *   (`UNAUTHENTICATED` or `FORBIDDEN`), null propagating through non-null types as the spec says,
 *   HTTP 200; its resolver never runs. A denied field inside a list yields one error, not one per
 *   item. No schema transform is needed: the plugin refuses the denied fields through Apollo's
 *   `willResolveField` hook, only for the queries that have some.
 * - Errors of this package thrown by your resolvers (e.g. `ClerkSecretKeyRequiredError` from
 *   `ctx.clerk` when only `CLERK_JWT_KEY` is set) keep their code instead of `INTERNAL_SERVER_ERROR`.
 *
 * Subscriptions are not served by Apollo Server over HTTP; for graphql-ws next to it, use a schema
 * from `clerkDirectiveTransformer` there (see `clerkGraphQLHttp` in `clerk-api-auth/graphql`).
 *
 * @param options - `{ rejectUnauthorized, clerkAuth }`, a `ClerkAuth`, or nothing. Invalid options
 *   throw here; a malformed rule or a foreign `@auth` definition throws when Apollo loads the schema.
 *
 * @example
 * ```ts
 * import { ApolloServer } from '@apollo/server';
 * import { startStandaloneServer } from '@apollo/server/standalone';
 * import { clerkApolloPlugin } from 'clerk-api-auth/apollo';
 * import { clerkDirectiveTypeDefs, createClerkGraphQLContext, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const server = new ApolloServer<ClerkGraphQLContext>({
 *   typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
 *   resolvers: { Query: { me: (_source, _args, ctx: ClerkGraphQLContext) => ctx.auth.userId } },
 *   plugins: [clerkApolloPlugin()],
 * });
 * const { url } = await startStandaloneServer(server, { context: createClerkGraphQLContext() });
 * ```
 */
export function clerkApolloPlugin(options?: ClerkApolloPluginOptions | ClerkAuth): ApolloServerPlugin<BaseContext> {
  const { clerkAuth, rejectUnauthorized } = settingsOf(options);
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema }) {
          // Fail fast on a malformed rule or a foreign @auth definition, before the first request.
          compileRules(apiSchema);
        },
      };
    },

    async requestDidStart() {
      let decided: Decided | undefined;
      return {
        async didResolveOperation({ schema, operation, document, request, contextValue }) {
          const rules = compileRules(schema);
          if (!rules.any || operation === undefined) return;
          const found = clerkStateOf(contextValue);
          if (found === undefined) throw missingContext();
          const state = clerkAuth !== undefined && found.clerkAuth !== clerkAuth ? { ...found, clerkAuth } : found;
          decided = await decideOperation({
            rules,
            operation,
            fragments: fragmentsOf(document),
            variables: request.variables,
            rejectUnauthorized,
            state,
          });
          if (decided.decision === 'reject') throw rejection(decided.plan);
        },

        async executionDidStart() {
          if (decided?.decision !== 'partial') return;
          const plan = decided.plan;
          return {
            willResolveField({ info }) {
              refuseIfDenied(plan, info);
            },
          };
        },

        async willSendResponse(requestContext) {
          tidyResponse(requestContext);
        },
      };
    },
  };
}

function settingsOf(options: ClerkApolloPluginOptions | ClerkAuth | undefined): { clerkAuth: ClerkAuth | undefined; rejectUnauthorized: boolean } {
  if (options === undefined) return { clerkAuth: undefined, rejectUnauthorized: false };
  if (isClerkAuth(options)) return { clerkAuth: options, rejectUnauthorized: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ClerkAuthConfigError(`clerkApolloPlugin: pass { rejectUnauthorized?, clerkAuth? }, a ClerkAuth from createClerkAuth(), or nothing; got ${typeof options}.`);
  }
  const unknown = Object.keys(options).filter((key) => !OWN_KEYS.has(key) && (options as Record<string, unknown>)[key] !== undefined);
  if (unknown.length > 0) {
    throw new ClerkAuthConfigError(
      `clerkApolloPlugin: unknown option${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}. Clerk's options (keys, authorizedParties...) ` +
        'belong to createClerkAuth() or createClerkGraphQLContext(), which build the context the plugin reads.',
    );
  }
  const { clerkAuth, rejectUnauthorized } = options;
  if (clerkAuth !== undefined && !isClerkAuth(clerkAuth)) throw new ClerkAuthConfigError('clerkApolloPlugin: `clerkAuth` must come from createClerkAuth().');
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') {
    throw new ClerkAuthConfigError('clerkApolloPlugin: `rejectUnauthorized` must be a boolean.');
  }
  return { clerkAuth, rejectUnauthorized: rejectUnauthorized === true };
}

/**
 * The error that rejects an operation before execution: the core's rejection error (the first denied
 * node of the strongest cause), with `extensions.http` as Apollo Server reads it (headers in a `Map`),
 * so Apollo sets the status and headers and removes `http` from the response.
 */
function rejection(plan: Plan): GraphQLError {
  const error = rejectionError(plan) as GraphQLError;
  const { http, ...extensions } = error.extensions as { http: { status: number; headers: Record<string, string> } };
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { ...extensions, http: apolloHttp(http.status, Object.entries(http.headers)) },
  });
}

/**
 * Refuses a field node the plan denied for this runtime type, before its resolver runs: Apollo
 * records what the hook throws as the field's error, and the field is null (null propagating as the
 * spec says). A node's first occurrence raises its own error; later ones (list items) raise the same
 * one again, which the response keeps once.
 */
function refuseIfDenied(plan: Plan, info: GraphQLResolveInfo): void {
  if (plan.denials.size === 0) return;
  for (const node of info.fieldNodes) {
    const denial = plan.denials.get(node);
    const error = denial?.byType.get(info.parentType.name);
    if (denial === undefined || error === undefined) continue;
    deniedField(denial, error, info);
    throw denial.reported;
  }
}

/**
 * The response as sent: each denial error once; this package's errors with their own code; and any
 * `extensions.http` Apollo left in the body (one written with a plain-object `headers`, e.g. by a
 * schema from `clerkDirectiveTransformer`) applied to the HTTP answer and removed.
 */
function tidyResponse(requestContext: GraphQLRequestContextWillSendResponse<BaseContext>): void {
  const { body, http } = requestContext.response;
  if (body.kind !== 'single') return;
  const formatted = body.singleResult.errors;
  if (formatted === undefined || formatted.length === 0) return;
  let errors: GraphQLFormattedError[] = [...formatted];
  const raw = requestContext.errors;
  if (raw !== undefined && raw.length === formatted.length) {
    // The kept errors in order, the same objects: walk both lists (a duplicate is the same object again).
    const kept = dedupeDenialErrors({ errors: raw }).errors ?? raw;
    const exposed = exposeClerkErrors({ errors: raw }).errors ?? raw;
    let next = 0;
    errors = errors.flatMap((error, i) => {
      const original = raw[i] as GraphQLError;
      if (kept[next] !== original) return [];
      next++;
      const mapped = exposed[i];
      if (mapped === undefined || mapped === original) return [error];
      return [{ ...error, extensions: { ...error.extensions, code: mapped.extensions.code } }];
    });
  }
  const leftover = errors.filter((error) => error.extensions?.http !== undefined);
  if (leftover.length > 0) {
    const answer = httpOfExtensions(leftover.map((error) => error.extensions));
    if (answer !== undefined) {
      http.status = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) http.headers.set(name.toLowerCase(), value);
    }
    errors = errors.map((error) => {
      if (error.extensions?.http === undefined) return error;
      const { http: _http, ...extensions } = error.extensions;
      return { ...error, extensions };
    });
  }
  body.singleResult = { ...body.singleResult, errors };
}


/**
 * `extensions.http` as Apollo Server honours it: headers in a `Map`. (Typed loosely: other libraries
 * augment graphql's `GraphQLErrorExtensions` with their own `http` shape.)
 */
function apolloHttp(status: number, headers: ReadonlyArray<[string, string]>): never {
  return { status, headers: new Map(headers) } as never;
}

function missingContext(): GraphQLError {
  return new GraphQLError(
    'clerkApolloPlugin needs Clerk authentication on the context: pass `context: createClerkGraphQLContext()` ' +
      '(from clerk-api-auth/graphql) to startStandaloneServer / expressMiddleware, or spread its result into your own context. ' +
      'The operation was not executed.',
    { extensions: { code: 'CLERK_AUTH_CONFIG', http: apolloHttp(500, []) } },
  );
}
