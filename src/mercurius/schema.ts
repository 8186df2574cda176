import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, GraphQLError, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { ClerkAuth } from '../core/internal.js';
import { contextFields, requestAuthOf, stateOf } from '../graphql/context.js';
import { clerkDirectiveTransformer } from '../graphql/transformer.js';
import { withoutHttp } from './http.js';

/**
 * Where a Mercurius WebSocket connection keeps what its credential is read from: the upgrade request
 * (from `subscription.context`) and the `connection_init` payload (from `subscription.onConnect`).
 * Mercurius copies both onto every operation's context.
 *
 * @internal
 */
export const CONNECTION_REQUEST: unique symbol = Symbol.for('clerk-api-auth.mercurius.connection-request');
/** @internal */
export const CONNECTION_PARAMS: unique symbol = Symbol.for('clerk-api-auth.mercurius.connection-params');

interface ConnectionContext {
  [CONNECTION_REQUEST]?: unknown;
  [CONNECTION_PARAMS]?: unknown;
}

/** Schemas this module produced: Mercurius serves exactly one of them, or it is guarded again. */
const guarded = new WeakSet<GraphQLSchema>();

/** Whether Mercurius serves a schema `guardSchema` produced. @internal */
export function isGuarded(schema: GraphQLSchema): boolean {
  return guarded.has(schema);
}

/**
 * The schema Mercurius serves: the rules of `clerkDirectiveTransformer` (every root field decides
 * the whole operation once per execution with the one pre-execution walk, every guarded field is
 * wrapped, subscriptions end at expiry), and at every root field, for WebSocket operations, the
 * connection's credential read into the operation's context (Mercurius builds no per-operation
 * context of its own there). A subscription refused before it starts reaches the client through
 * Mercurius's WebSocket error message, which the error formatter never sees: its error leaves
 * without `extensions.http`.
 *
 * @internal
 */
export function guardSchema(schema: GraphQLSchema, clerkAuth: ClerkAuth, rejectUnauthorized: boolean): GraphQLSchema {
  if (guarded.has(schema)) return schema;
  const transformed = clerkDirectiveTransformer(schema, { clerkAuth, rejectUnauthorized });
  const roots = new Set([transformed.getQueryType(), transformed.getMutationType()].filter((type) => type != null).map((type) => type.name));
  const subscription = transformed.getSubscriptionType()?.name;
  const result = mapSchema(transformed, {
    [MapperKind.OBJECT_FIELD]: (config, _field, typeName) => {
      if (typeName === subscription) {
        return {
          ...config,
          subscribe: refusedWithoutHttp(withConnection(config.subscribe ?? defaultFieldResolver, clerkAuth)),
          resolve: withConnection(config.resolve ?? defaultFieldResolver, clerkAuth),
        };
      }
      return roots.has(typeName) ? { ...config, resolve: withConnection(config.resolve ?? defaultFieldResolver, clerkAuth) } : config;
    },
  });
  guarded.add(result);
  return result;
}

/**
 * A root field of an operation that came over Mercurius's WebSocket: before the rules read the
 * context, the connection's credential (the `connection_init` payload's `authorization` / `token` /
 * `headers.authorization`, else the upgrade request's `Authorization` or same-origin cookie; two
 * different ones are refused) is verified and `auth`, `clerk` and `signedOutReason` are put on this
 * operation's own context. Decided per operation, so a connection outliving its token is signed out.
 * HTTP contexts already carry it (`context`), and are passed through untouched.
 */
function withConnection(resolve: GraphQLFieldResolver<unknown, unknown>, clerkAuth: ClerkAuth): GraphQLFieldResolver<unknown, unknown> {
  return function clerkConnectionResolver(source, args, context, info) {
    if (typeof context !== 'object' || context === null || stateOf(context) !== undefined || !(CONNECTION_REQUEST in context || CONNECTION_PARAMS in context)) {
      return resolve(source, args, context, info);
    }
    const connection = context as ConnectionContext;
    const request = requestAuthOf(clerkAuth, { connectionParams: connection[CONNECTION_PARAMS] ?? null, request: connection[CONNECTION_REQUEST] ?? null });
    const settled = request.session();
    const run = (session: Awaited<typeof settled>): unknown => {
      // Another root field of this operation may have settled first: the first one's state stays.
      if (stateOf(context) === undefined) Object.assign(context, contextFields(clerkAuth, request, session));
      return resolve(source, args, context, info);
    };
    return settled instanceof Promise ? settled.then(run) : run(settled);
  };
}

/** A subscription refused before it starts: the same error, without `extensions.http`. */
function refusedWithoutHttp(subscribe: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  const clean = (error: unknown): never => {
    throw error instanceof GraphQLError ? withoutHttp(error, false) : error;
  };
  return function clerkSubscribe(source, args, context, info) {
    let started: unknown;
    try {
      started = subscribe(source, args, context, info);
    } catch (error) {
      return clean(error);
    }
    return started instanceof Promise ? started.catch(clean) : started;
  };
}
