import type { GraphQLSchema } from 'graphql';
import { ClerkAuthConfigError, resolveClerkAuth, type ClerkAuth, type ClerkAuthOptions, type NodeLikeRequest } from '../core/internal.js';
import { contextFields, requestAuthOf, type ClerkGraphQLContext } from '../graphql/context.js';
import { clerkErrorFormatter, type ClerkErrorFormatter, type MercuriusErrorFormatter } from './error-formatter.js';
import { CONNECTION_PARAMS, CONNECTION_REQUEST, guardSchema, isGuarded } from './schema.js';

/**
 * Options of `clerkMercurius`: every `createClerkAuth` option (environment fallbacks apply), or an
 * existing `clerkAuth`, plus how the rules answer.
 *
 * @example
 * ```ts
 * clerkMercurius({ authorizedParties: ['https://app.example.com'] });
 * clerkMercurius({ clerkAuth, rejectUnauthorized: true });
 * ```
 */
export interface ClerkMercuriusOptions extends ClerkAuthOptions {
  /** An existing authenticator from `createClerkAuth` (share one between tRPC and GraphQL). Exclusive with Clerk options. */
  clerkAuth?: ClerkAuth;
  /**
   * Reject a whole query that selects any denied field (HTTP 401 / 403, no resolver runs) instead of
   * answering the allowed fields with each denied one null (HTTP 200). Default `false`. Mutations and
   * subscriptions are always rejected whole.
   */
  rejectUnauthorized?: boolean;
}

/**
 * The part of a Fastify request the Clerk context reads (a `FastifyRequest` is one): the Node request
 * (`raw`) for the credential, and the server, to find the schema Mercurius serves.
 *
 * @example
 * ```ts
 * import type { FastifyRequest } from 'fastify';
 * const request: MercuriusRequestLike = {} as FastifyRequest;
 * ```
 */
export interface MercuriusRequestLike {
  readonly raw: NodeLikeRequest;
  readonly server?: unknown;
}

/**
 * A Mercurius `context` option with Clerk's fields: `auth` (Clerk's auth object, the session view),
 * `clerk` (the Backend API client) and `signedOutReason`, plus whatever your own context returned.
 *
 * @example
 * ```ts
 * const context: MercuriusClerkContext<{ requestId: string }> = clerkMercurius().context(() => ({ requestId: 'r1' }));
 * ```
 */
export type MercuriusClerkContext<TOwn extends object = object> = (request: MercuriusRequestLike, reply: unknown) => Promise<TOwn & ClerkGraphQLContext>;

/**
 * What `clerkMercurius().subscription()` reads of Mercurius's `subscription` options (an object of
 * them is one), and passes on untouched otherwise.
 *
 * @example
 * ```ts
 * const own: MercuriusSubscriptionLike = { keepAlive: 10_000, onConnect: ({ payload }) => payload !== undefined };
 * ```
 */
export interface MercuriusSubscriptionLike {
  context?: (socket: never, request: never) => unknown;
  onConnect?: (data: { type: 'connection_init'; payload: never }) => unknown;
  /** Every other subscription option (`emitter`, `pubsub`, `keepAlive`, ...), passed on as is. */
  [option: string]: unknown;
}

/**
 * The Mercurius `subscription` options with Clerk's: the upgrade request and the `connection_init`
 * payload are kept for each operation to read its credential from (Mercurius runs no context
 * function per WebSocket operation).
 *
 * @example
 * ```ts
 * const subscription: MercuriusClerkSubscription<{ keepAlive: number }> = clerkMercurius().subscription({ keepAlive: 10_000 });
 * ```
 */
export type MercuriusClerkSubscription<TOwn extends object = object> = Omit<TOwn, 'context' | 'onConnect'> & {
  context: (socket: unknown, request: MercuriusRequestLike) => Promise<Record<PropertyKey, unknown>>;
  onConnect: (data: { type: 'connection_init'; payload: unknown }) => Promise<Record<PropertyKey, unknown> | false>;
};

/**
 * Clerk for one Mercurius server: spread `options` into Mercurius's options (or take the pieces one
 * by one to combine them with your own), and pass `subscription()` as its `subscription` option for
 * graphql-ws over Mercurius's WebSocket.
 *
 * @example
 * ```ts
 * const clerk = clerkMercurius();
 * await app.register(mercurius, { schema, resolvers, ...clerk.options, subscription: clerk.subscription() });
 * ```
 */
export interface ClerkMercurius {
  /** `context`, `errorFormatter` and `schemaTransforms`, to spread into Mercurius's options. */
  readonly options: {
    readonly context: MercuriusClerkContext;
    readonly errorFormatter: ClerkErrorFormatter;
    readonly schemaTransforms: Array<(schema: GraphQLSchema) => GraphQLSchema>;
  };
  /**
   * The `context` option: Clerk's fields, then yours. Your function gets them as its third
   * argument; what it returns is merged in (Clerk's fields win: `auth` is always Clerk's).
   */
  context<TOwn extends object = object>(own?: (request: never, reply: never, clerk: ClerkGraphQLContext) => TOwn | Promise<TOwn>): MercuriusClerkContext<TOwn>;
  /**
   * The `errorFormatter` option, around yours (default: Mercurius's `defaultErrorFormatter`). Whole
   * rejections answer their status (401 / 403 / 400 / 503) and headers (`WWW-Authenticate`,
   * `Retry-After`) whatever yours says.
   */
  errorFormatter(own?: MercuriusErrorFormatter): ClerkErrorFormatter;
  /**
   * The schema transform enforcing the rules (`@auth`, `@hasRole`, `@hasPermission`,
   * `extensions.clerk`). Put it last in `schemaTransforms`: it guards the schema as Mercurius built
   * it (SDL, `resolvers`, `loaders` and your own transforms). Malformed rules throw here, when
   * Mercurius is registered.
   */
  readonly schemaTransform: (schema: GraphQLSchema) => GraphQLSchema;
  /** The `subscription` option (nothing or `true`, or your own subscription options), for graphql-ws over Mercurius's WebSocket. */
  subscription(own?: true): MercuriusClerkSubscription;
  subscription<TOwn extends MercuriusSubscriptionLike>(own: TOwn): MercuriusClerkSubscription<TOwn>;
}

const OWN_KEYS = ['rejectUnauthorized'] as const;

/**
 * Clerk authentication for Mercurius (Fastify's GraphQL server): `auth`, `clerk` and
 * `signedOutReason` on the context, and `@auth`, `@hasRole`, `@hasPermission` (and
 * `extensions.clerk` rules) enforced as `useClerk` enforces them on GraphQL Yoga, by the same
 * decision (`clerkDirectiveTransformer`'s, once per execution before any resolver of the operation
 * runs):
 *
 * - Queries run what is allowed; each denied field is null with an error at its path
 *   (`UNAUTHENTICATED` or `FORBIDDEN`), with null propagation, HTTP 200.
 * - Mutations and subscriptions selecting anything denied, queries under `rejectUnauthorized`, and
 *   any operation selecting a guarded field with a presented token that failed verification are
 *   rejected whole before any resolver runs: HTTP 401 (`WWW-Authenticate: Bearer`, with
 *   `error="invalid_token"` when a token was presented), 403 (`insufficient_scope`), 400 (several or
 *   malformed credentials) or 503 (`Retry-After`), one error and no `data`.
 * - Over Mercurius's WebSocket (`subscription: clerk.subscription()`), each operation reads the
 *   connection's credential (`connection_init` payload, else the upgrade request) when it starts;
 *   a subscription that selects a guarded field ends with `UNAUTHENTICATED`
 *   (`reason: 'token-expired'`) when the token expires.
 * - `extensions.http` (status and headers) is applied to Fastify's reply and never sent in the body.
 *
 * Resolvers added after registration with `app.graphql.defineResolvers` replace guarded ones: give
 * them to Mercurius's options. A schema replaced or extended later (`replaceSchema`, `extendSchema`)
 * is guarded again before its first operation.
 *
 * For `ctx.auth` in typed resolvers, extend Mercurius's context once:
 * `declare module 'mercurius' { interface MercuriusContext extends ClerkGraphQLContext {} }`.
 *
 * @param options - Options, a `ClerkAuth` from `createClerkAuth`, or nothing (configuration from the
 *   environment: `CLERK_SECRET_KEY` and/or `CLERK_JWT_KEY`, ...). Invalid configuration throws here.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import mercurius from 'mercurius';
 * import { clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';
 * import { clerkMercurius } from 'clerk-api-auth/mercurius';
 *
 * const clerk = clerkMercurius();
 * const app = Fastify();
 * await app.register(mercurius, {
 *   schema: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
 *   resolvers: { Query: { me: (_, __, ctx) => ctx.auth.userId } },
 *   ...clerk.options,
 *   subscription: clerk.subscription(),
 * });
 * ```
 */
export function clerkMercurius(options?: ClerkMercuriusOptions | ClerkAuth): ClerkMercurius {
  const { clerkAuth, own } = resolveClerkAuth<Pick<ClerkMercuriusOptions, 'rejectUnauthorized'>>(options, OWN_KEYS, 'clerkMercurius');
  const rejectUnauthorized = own.rejectUnauthorized === true;
  const schemaTransform = (schema: GraphQLSchema): GraphQLSchema => guardSchema(schema, clerkAuth, rejectUnauthorized);
  /** A schema replaced or extended after registration is guarded before it serves an operation. */
  const guardServed = (server: unknown): void => {
    const graphql = typeof server === 'object' && server !== null ? (server as { graphql?: unknown }).graphql : undefined;
    if (typeof graphql !== 'function' && (typeof graphql !== 'object' || graphql === null)) return;
    const { schema, replaceSchema } = graphql as { schema?: unknown; replaceSchema?: unknown };
    if (typeof replaceSchema !== 'function' || typeof schema !== 'object' || schema === null) return;
    if (!isGuarded(schema as GraphQLSchema)) (replaceSchema as (schema: GraphQLSchema) => void).call(graphql, schemaTransform(schema as GraphQLSchema));
  };

  const context = <TOwn extends object = object>(
    mine?: (request: never, reply: never, clerk: ClerkGraphQLContext) => TOwn | Promise<TOwn>,
  ): MercuriusClerkContext<TOwn> => {
    if (mine !== undefined && typeof mine !== 'function') throw new ClerkAuthConfigError('clerkMercurius: context(own) takes your Mercurius context function (request, reply) => object.');
    return async function clerkMercuriusContext(request, reply) {
      guardServed(request.server);
      const requestAuth = requestAuthOf(clerkAuth, request.raw);
      const settled = requestAuth.session();
      const fields = contextFields(clerkAuth, requestAuth, settled instanceof Promise ? await settled : settled);
      if (mine === undefined) return fields as unknown as TOwn & ClerkGraphQLContext;
      const { auth, clerk, signedOutReason } = fields;
      const theirs = await (mine as (request: unknown, reply: unknown, clerk: ClerkGraphQLContext) => TOwn | Promise<TOwn>)(request, reply, { auth, clerk, signedOutReason });
      return Object.assign(typeof theirs === 'object' && theirs !== null ? theirs : {}, fields) as unknown as TOwn & ClerkGraphQLContext;
    };
  };

  const errorFormatter = (mine?: MercuriusErrorFormatter): ClerkErrorFormatter => {
    if (mine !== undefined && typeof mine !== 'function') throw new ClerkAuthConfigError('clerkMercurius: errorFormatter(own) takes your Mercurius errorFormatter (execution, context) => { statusCode, response }.');
    return clerkErrorFormatter(mine as ClerkErrorFormatter | undefined);
  };

  const subscription = <TOwn extends MercuriusSubscriptionLike>(mine?: TOwn | true): MercuriusClerkSubscription<TOwn> => {
    if (mine !== undefined && mine !== true && (typeof mine !== 'object' || mine === null)) {
      throw new ClerkAuthConfigError('clerkMercurius: subscription(own) takes `true` or your Mercurius subscription options.');
    }
    const base = (mine === true || mine === undefined ? {} : mine) as MercuriusSubscriptionLike;
    const theirContext = base.context as ((socket: unknown, request: unknown) => unknown) | undefined;
    const theirOnConnect = base.onConnect as ((data: unknown) => unknown) | undefined;
    for (const [key, value] of [['context', theirContext], ['onConnect', theirOnConnect]] as const) {
      if (value !== undefined && typeof value !== 'function') throw new ClerkAuthConfigError(`clerkMercurius: subscription(own): \`${key}\` must be a function.`);
    }
    return {
      ...base,
      async context(socket: unknown, request: MercuriusRequestLike) {
        guardServed(request.server);
        const theirs = theirContext === undefined ? undefined : await theirContext(socket, request);
        return { ...(typeof theirs === 'object' && theirs !== null ? theirs : {}), [CONNECTION_REQUEST]: request.raw };
      },
      async onConnect(data: { type: 'connection_init'; payload: unknown }) {
        // The connection is always accepted here: the rules decide each operation, with its credential as of then.
        const theirs = theirOnConnect === undefined ? true : await theirOnConnect(data);
        if (!theirs) return false;
        return { ...(typeof theirs === 'object' ? theirs : {}), [CONNECTION_PARAMS]: typeof data?.payload === 'object' ? data.payload : null };
      },
    } as unknown as MercuriusClerkSubscription<TOwn>;
  };

  return {
    options: { context: context(), errorFormatter: errorFormatter(), schemaTransforms: [schemaTransform] },
    context,
    errorFormatter,
    schemaTransform,
    subscription,
  };
}
