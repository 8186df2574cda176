import { MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  GraphQLError,
  isNonNullType,
  type FragmentDefinitionNode,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { untilExpiry, type ClerkAuth } from '../core/internal.js';
import { expiredError, rejectionError } from './errors.js';
import { clerkStateOf, decideOperation, PerExecution, variablesOf, type Decided } from './execution.js';
import { guardResolver, type PlanLookup } from './guard.js';
import { compileRules, type SchemaRules } from './rules.js';

/**
 * Options of `clerkDirectiveTransformer`.
 *
 * @example
 * ```ts
 * clerkDirectiveTransformer(schema, { rejectUnauthorized: true, clerkAuth });
 * ```
 */
export interface ClerkDirectiveTransformerOptions {
  /** Reject a whole query that selects any denied field instead of nulling the denied fields. Default `false`. */
  rejectUnauthorized?: boolean;
  /**
   * The authenticator whose settings (`appRoleClaim`, clock skew) the checks use. Default: the one
   * that built the context (`createClerkGraphQLContext`), else Clerk's defaults.
   */
  clerkAuth?: ClerkAuth;
}

/** What one execution was decided, for every resolver call of it. */
interface Execution extends Decided {
  readonly rejection: GraphQLError | undefined;
  /** Whether a root field already raised `rejection` (the others are then null without a new error). */
  rejected: boolean;
}

const transformed = new WeakSet<GraphQLSchema>();
/** The value a subscription's source stream yields when the token expired. */
const EXPIRED: unique symbol = Symbol('clerk-api-auth.expired');

/**
 * The same rules as `useClerk`, as resolver wrappers, for servers other than GraphQL Yoga (Apollo
 * Server, graphql-http, graphql-ws, Mercurius, a plain `graphql()` call). Returns a new schema (built
 * with `@graphql-tools/utils`' `mapSchema`); the one you pass is not modified.
 *
 * - Every root field (and every root subscription's `subscribe`) first decides the whole operation
 *   with the same pre-execution walk as `useClerk` (once per execution): mutations and subscriptions
 *   selecting anything denied, queries under `rejectUnauthorized`, and any operation where a
 *   presented token was rejected fail at every root field with the rejection error before any
 *   resolver or `subscribe` runs; its `extensions.http` (status, `WWW-Authenticate`) becomes the
 *   HTTP answer through `clerkHttpResult` (a plain `graphql()` call) or `clerkGraphQLHttp`
 *   (graphql-http, graphql-ws), which also remove it from the body. On Apollo Server use
 *   `clerkApolloPlugin` from `clerk-api-auth/apollo` (no transform needed).
 * - Every field a rule applies to (its own directives, its type's, its interfaces' — implementations
 *   included) is wrapped: in a query a denied field is null with an error, reported once per field
 *   node. Under a list, a denied non-null field must null each item to keep the response valid, and
 *   the executor records an error for each such item; prefer nullable guarded fields in lists, or
 *   use `useClerk`, which keeps one.
 * - Subscriptions that select a guarded field end with `UNAUTHENTICATED` when the caller's token expires.
 *
 * The context must come from `createClerkGraphQLContext` (or carry `auth`, Clerk's auth object, and
 * `signedOutReason`); without it every guarded field fails closed.
 *
 * @example
 * ```ts
 * import { graphql } from 'graphql';
 * import { makeExecutableSchema } from '@graphql-tools/schema';
 * import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, clerkHttpResult, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const schema = clerkDirectiveTransformer(
 *   makeExecutableSchema({ typeDefs: [clerkDirectiveTypeDefs, 'type Query { secret: String @auth }'], resolvers }),
 * );
 * const contextValue = await createClerkGraphQLContext()(request);
 * const { status, headers, body } = clerkHttpResult(await graphql({ schema, source: '{ secret }', contextValue }));
 * ```
 */
export function clerkDirectiveTransformer(schema: GraphQLSchema, options: ClerkDirectiveTransformerOptions = {}): GraphQLSchema {
  if (transformed.has(schema)) return schema;
  const rules = compileRules(schema);
  const rejectUnauthorized = options.rejectUnauthorized === true;
  const roots = new Map<string, 'query' | 'mutation' | 'subscription'>();
  for (const [kind, type] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const) {
    if (type) roots.set(type.name, kind);
  }

  // One decision per execution (never per context object: graphql-ws servers may share one per connection).
  const executions = new PerExecution<Execution | Promise<Execution>>((context, info) => {
    const decided = decideExecution(context, info, options.clerkAuth, rules, rejectUnauthorized);
    if (!(decided instanceof Promise)) return decided;
    // A machine token a rule accepts is being verified: every root field waits for it, and the settled
    // decision replaces the promise for the nested fields that resolve after them.
    return decided.then((settled) => {
      executions.remember(context, info, settled);
      return settled;
    });
  });
  const executionOf: ExecutionOf = (context, info) => {
    if (typeof context !== 'object' || context === null) throw missingContext();
    return executions.of(context, info);
  };
  const lookup: PlanLookup = (context, info) => {
    const execution = executionOf(context, info);
    // Nested fields resolve after their root field, which waited for the decision; fail closed otherwise.
    return execution instanceof Promise ? undefined : execution.plan;
  };

  const result = mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
      const guarded = rules.guardedFields.get(typeName)?.has(fieldName) === true;
      const root = roots.get(typeName);
      if (!guarded && root === undefined) return config;
      const resolve = guarded ? guardResolver(config.resolve, lookup) : (config.resolve ?? defaultFieldResolver);
      if (root === undefined) return { ...config, resolve };
      return root === 'subscription' ? subscriptionRoot(config, resolve, executionOf) : { ...config, resolve: rootResolver(resolve, executionOf) };
    },
  });
  transformed.add(result);
  return result;
}

type ExecutionOf = (context: unknown, info: GraphQLResolveInfo) => Execution | Promise<Execution>;

function rootResolver(resolve: GraphQLFieldResolver<unknown, unknown>, executionOf: ExecutionOf): GraphQLFieldResolver<unknown, unknown> {
  return function clerkRootResolver(source, args, context, info) {
    const execution = executionOf(context, info);
    const run = (settled: Execution): unknown => {
      if (settled.rejection !== undefined) return reject(settled, info);
      return resolve(source, args, context, info);
    };
    return execution instanceof Promise ? execution.then(run) : run(execution);
  };
}

/**
 * A root field of a rejected operation: the first raises the rejection (one error, at its path);
 * the others are null without an error of their own, unless non-null (then they raise it too, and
 * null propagates to `data`). So a rejection is one error however many root fields are selected.
 */
function reject(execution: Execution, info: GraphQLResolveInfo): null {
  const rejection = execution.rejection as GraphQLError;
  if (!execution.rejected || isNonNullType(info.returnType)) {
    execution.rejected = true;
    throw rejection;
  }
  return null;
}

function subscriptionRoot(
  config: GraphQLFieldConfig<unknown, unknown>,
  resolve: GraphQLFieldResolver<unknown, unknown>,
  executionOf: ExecutionOf,
): GraphQLFieldConfig<unknown, unknown> {
  const subscribe = config.subscribe ?? defaultFieldResolver;
  return {
    ...config,
    subscribe(source, args, context, info) {
      const start = (execution: Execution): unknown => {
        if (execution.rejection !== undefined) throw execution.rejection;
        const at = execution.expiresAt;
        const stream = subscribe(source, args, context, info);
        if (at === undefined) return stream;
        const limit = (value: unknown): unknown => (isAsyncIterable(value) ? untilExpiry<unknown>(value, at, () => EXPIRED) : value);
        return stream instanceof Promise ? stream.then(limit) : limit(stream);
      };
      const execution = executionOf(context, info);
      return execution instanceof Promise ? execution.then(start) : start(execution);
    },
    resolve(source, args, context, info) {
      if (source === EXPIRED) throw expiredError();
      const run = (execution: Execution): unknown => {
        if (execution.rejection !== undefined) return reject(execution, info);
        return resolve(source, args, context, info);
      };
      const execution = executionOf(context, info);
      return execution instanceof Promise ? execution.then(run) : run(execution);
    },
  };
}

function decideExecution(
  context: object,
  info: GraphQLResolveInfo,
  configured: ClerkAuth | undefined,
  rules: SchemaRules,
  rejectUnauthorized: boolean,
): Execution | Promise<Execution> {
  const found = clerkStateOf(context);
  if (found === undefined) throw missingContext();
  const state = configured !== undefined && found.clerkAuth !== configured ? { ...found, clerkAuth: configured } : found;
  const decided = decideOperation({
    rules,
    operation: info.operation,
    fragments: info.fragments as Readonly<Record<string, FragmentDefinitionNode | undefined>>,
    variables: variablesOf(info),
    rejectUnauthorized,
    state,
  });
  // Built field by field: an object spread here costs more than the rest of the decision.
  const withRejection = (d: Decided): Execution => ({
    plan: d.plan,
    decision: d.decision,
    expiresAt: d.expiresAt,
    rejection: d.decision === 'reject' ? rejectionError(d.plan) : undefined,
    rejected: false,
  });
  return decided instanceof Promise ? decided.then(withRejection) : withRejection(decided);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function missingContext(): GraphQLError {
  return new GraphQLError(
    'clerkDirectiveTransformer needs Clerk authentication on the GraphQL context: build the context with ' +
      'createClerkGraphQLContext() from clerk-api-auth/graphql (or put Clerk\'s auth object at `auth`). The field was not resolved.',
    { extensions: { code: 'CLERK_AUTH_CONFIG' } },
  );
}
