import { MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { deniedField } from './errors.js';
import { clerkStateOf, decideOperation, PerExecution, variablesOf } from './execution.js';
import type { Plan } from './plan.js';
import type { SchemaRules } from './rules.js';

/** Finds the plan of the execution a resolver call belongs to. @internal */
export type PlanLookup = (context: unknown, info: GraphQLResolveInfo) => Plan | undefined;

/**
 * Wraps the resolver of a guarded field: a field node the plan denied for this runtime type becomes
 * null with its error, reported once per node (later list items get null without a new error when
 * the field is nullable; non-null ones still raise so that null propagates, and duplicates are
 * dropped from the response). Everything else runs the original resolver untouched.
 *
 * @internal
 */
export function guardResolver<TSource, TContext, TArgs>(
  original: GraphQLFieldResolver<TSource, TContext, TArgs> | undefined,
  lookup: PlanLookup,
): GraphQLFieldResolver<TSource, TContext, TArgs> {
  const resolve = original ?? (defaultFieldResolver as GraphQLFieldResolver<TSource, TContext, TArgs>);
  return function clerkGuardedResolver(source, args, context, info) {
    const plan = lookup(context, info);
    if (plan === undefined) throw missingPlan();
    if (plan.denials.size !== 0) {
      const nodes = info.fieldNodes;
      for (let i = 0; i < nodes.length; i++) {
        const denial = plan.denials.get(nodes[i] as (typeof nodes)[number]);
        const error = denial?.byType.get(info.parentType.name);
        if (denial === undefined || error === undefined) continue;
        return deniedField(denial, error, info);
      }
    }
    return resolve(source, args, context, info);
  };
}

function missingPlan(): GraphQLError {
  // Fail closed: a guarded field is never served without a decision.
  return new GraphQLError(
    'clerk-api-auth could not find the authorization decision for this operation, so the field was not resolved. ' +
      'Execute through useClerk() (GraphQL Yoga) or a schema from clerkDirectiveTransformer() with a context from createClerkGraphQLContext().',
    { extensions: { code: 'CLERK_AUTH_CONFIG' } },
  );
}

/**
 * The plan of each execution on a guarded twin, decided for that execution from its own context's
 * credential (never shared between two operations running on one context object).
 */
function twinLookup(rules: SchemaRules): PlanLookup {
  const plans = new PerExecution<Plan | undefined>((context, info) => {
    const state = clerkStateOf(context);
    if (state === undefined) return undefined;
    const decided = decideOperation({
      rules,
      operation: info.operation,
      fragments: info.fragments,
      variables: variablesOf(info),
      rejectUnauthorized: false,
      state,
    });
    // Every verification the plan needs ran before execution started; if one has not, fail closed.
    return decided instanceof Promise ? undefined : decided.plan;
  });
  return (context, info) => (typeof context === 'object' && context !== null ? plans.of(context, info) : undefined);
}

const twins = new WeakMap<GraphQLSchema, GraphQLSchema>();

/**
 * The guarded twin of a schema: the same schema (built with `mapSchema`) whose guarded fields carry
 * `guardResolver`. `useClerk` executes on it only the queries that have denied fields, so callers who
 * may see everything run on the original schema at zero per-field cost.
 *
 * @internal
 */
export function guardedTwin(schema: GraphQLSchema, rules: SchemaRules): GraphQLSchema {
  let twin = twins.get(schema);
  if (twin === undefined) {
    const lookup = twinLookup(rules);
    twin = mapSchema(schema, {
      [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) =>
        rules.guardedFields.get(typeName)?.has(fieldName) ? { ...config, resolve: guardResolver(config.resolve, lookup) } : config,
    });
    twins.set(schema, twin);
  }
  return twin;
}
