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
  versionInfo,
} from 'graphql';
import { checkRequirement } from '../core/authorization.js';
import type { ClerkAuth } from '../core/create-clerk-auth.js';
import { SignedOutReason } from '../core/reasons.js';
import type { AuthenticateResult, ClerkAuthObject } from '../core/types.js';
import { stateOf } from './context.js';
import { expiredError, rejectionError } from './errors.js';
import { expiryOf, untilExpiry } from './expiry.js';
import { guardResolver, type PlanLookup } from './guard.js';
import { decide, planOperation, UNREADABLE_VARIABLES, type Decision, type Plan, type PlanInput } from './plan.js';
import { compileRules } from './rules.js';

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
interface Execution {
  readonly plan: Plan;
  readonly decision: Decision;
  readonly rejection: GraphQLError | undefined;
  /** Whether a root field already raised `rejection` (the others are then null without a new error). */
  rejected: boolean;
  readonly result: AuthenticateResult;
  readonly skew: number;
}

interface ExecutionSlot {
  readonly context: object;
  readonly operation: OperationDefinitionNode;
  readonly execution: Execution;
  others?: WeakMap<object, Map<OperationDefinitionNode, Execution>>;
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
 *   resolver or `subscribe` runs; its `extensions.http` (status, `WWW-Authenticate`) is honoured by
 *   Apollo Server and graphql-http-style servers that read it.
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
 * import { clerkDirectiveTransformer, clerkDirectiveTypeDefs, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const schema = clerkDirectiveTransformer(
 *   makeExecutableSchema({ typeDefs: [clerkDirectiveTypeDefs, 'type Query { secret: String @auth }'], resolvers }),
 * );
 * const contextValue = await createClerkGraphQLContext()(request);
 * const result = await graphql({ schema, source: '{ secret }', contextValue });
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

  // One decision per execution: keyed by the execution's own variable-values object (a fresh one per
  // execution, held only as long as the execution), checked against the context and operation.
  const executions = new WeakMap<object, ExecutionSlot>();
  const executionOf = (context: unknown, info: GraphQLResolveInfo): Execution => {
    if (typeof context !== 'object' || context === null) throw missingContext();
    const variables = info.variableValues as unknown as object;
    const operation = info.operation;
    const slot = executions.get(variables);
    if (slot !== undefined && slot.context === context && slot.operation === operation) return slot.execution;
    const shared = slot?.others?.get(context)?.get(operation);
    if (shared !== undefined) return shared;
    const execution = decideExecution(context, info, options.clerkAuth, rules, rejectUnauthorized);
    if (slot === undefined) {
      executions.set(variables, { context, operation, execution });
    } else {
      // The same variables object seen by another execution (an executor that shares it): keep both apart.
      slot.others ??= new WeakMap();
      let byOperation = slot.others.get(context);
      if (byOperation === undefined) slot.others.set(context, (byOperation = new Map()));
      byOperation.set(operation, execution);
    }
    return execution;
  };
  const lookup: PlanLookup = (context, info) => executionOf(context, info).plan;

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

type ExecutionOf = (context: unknown, info: GraphQLResolveInfo) => Execution;

function rootResolver(resolve: GraphQLFieldResolver<unknown, unknown>, executionOf: ExecutionOf): GraphQLFieldResolver<unknown, unknown> {
  return function clerkRootResolver(source, args, context, info) {
    const execution = executionOf(context, info);
    if (execution.rejection !== undefined) return reject(execution, info);
    return resolve(source, args, context, info);
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
      const execution = executionOf(context, info);
      if (execution.rejection !== undefined) return reject(execution, info);
      const at = execution.plan.guarded ? expiryOf(execution.result, execution.skew) : undefined;
      const stream = subscribe(source, args, context, info);
      if (at === undefined) return stream;
      const limit = (value: unknown): unknown => (isAsyncIterable(value) ? untilExpiry<unknown>(value, at, () => EXPIRED) : value);
      return stream instanceof Promise ? stream.then(limit) : limit(stream);
    },
    resolve(source, args, context, info) {
      if (source === EXPIRED) throw expiredError();
      const execution = executionOf(context, info);
      if (execution.rejection !== undefined) return reject(execution, info);
      return resolve(source, args, context, info);
    },
  };
}

function decideExecution(
  context: object,
  info: GraphQLResolveInfo,
  configured: ClerkAuth | undefined,
  rules: ReturnType<typeof compileRules>,
  rejectUnauthorized: boolean,
): Execution {
  const state = stateOf(context);
  const clerkAuth = configured ?? state?.clerkAuth;
  const result = state?.result ?? resultFromContext(context);
  const check = clerkAuth ? clerkAuth.check.bind(clerkAuth, result) : (requirement: Parameters<typeof checkRequirement>[1]) => checkRequirement(result, requirement);
  const plan = planOperation({
    rules,
    operation: info.operation,
    fragments: info.fragments as Readonly<Record<string, FragmentDefinitionNode | undefined>>,
    variables: variablesOf(info),
    check,
  });
  const decision = decide(plan, info.operation, rejectUnauthorized);
  const rejection = decision === 'reject' ? rejectionError(plan) : undefined;
  return { plan, decision, rejection, rejected: false, result, skew: clerkAuth?.config.clockSkewInMs ?? 5000 };
}

/** A context built without `createClerkGraphQLContext` but carrying Clerk's auth object as `auth`. */
function resultFromContext(context: object): AuthenticateResult {
  const { auth, signedOutReason } = context as { auth?: ClerkAuthObject; signedOutReason?: SignedOutReason | null };
  if (typeof auth !== 'object' || auth === null || typeof auth.isAuthenticated !== 'boolean') throw missingContext();
  if (auth.isAuthenticated) return { auth, reason: null };
  return { auth, reason: signedOutReason ?? SignedOutReason.TokenMissing };
}

/** graphql 17 hands resolvers `{ sources, coerced }`; graphql 16 (and graphql-tools' executor on 16) the coerced map itself. */
const WRAPPED_VARIABLES = versionInfo.major >= 17;

/**
 * Variable values as `@skip`/`@include` see them. Which form `info.variableValues` has is decided by
 * graphql's major version, never by the object's shape: an operation may name its own variables
 * `$coerced` and `$sources`. On graphql 17 a value that is not the `{ sources, coerced }` wrapper is
 * unreadable: every condition on a variable then counts as "selected" (the safe side).
 */
function variablesOf(info: GraphQLResolveInfo): PlanInput['variables'] {
  const values = info.variableValues as unknown;
  if (typeof values !== 'object' || values === null) return WRAPPED_VARIABLES ? UNREADABLE_VARIABLES : undefined;
  if (!WRAPPED_VARIABLES) return values as Readonly<Record<string, unknown>>;
  const coerced = (values as { coerced?: unknown }).coerced;
  return typeof coerced === 'object' && coerced !== null ? (coerced as Readonly<Record<string, unknown>>) : UNREADABLE_VARIABLES;
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
