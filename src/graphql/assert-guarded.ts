import { getNamedType, isAbstractType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { compileRules } from './rules.js';

/**
 * Options of `assertEveryFieldGuarded`.
 *
 * @example
 * ```ts
 * const options: AssertEveryFieldGuardedOptions = { public: ['Query.health', 'Query.node'] };
 * ```
 */
export interface AssertEveryFieldGuardedOptions {
  /** Coordinates (`Query.health`, `Note.id`) of the fields meant to be readable by anyone. */
  readonly public?: readonly string[];
}

/**
 * Fails (throws an `Error` naming every offender and how to fix it) when a caller could reach a field
 * of `schema` that has no rule and is not listed in `options.public`: for a test, so that a field
 * added without `@auth` breaks the build instead of shipping open. Rules are the ones `useClerk`
 * enforces: `@auth`, `@hasRole`, `@hasPermission` or `extensions.clerk` on the field, its type, an
 * interface or the interface's field. The walk starts at the root types and goes on only through
 * public fields (a guarded field protects what lies below it; an interface or union leads to each of
 * its object types). Also fails on a `public` entry that names no field (a stale list).
 *
 * @example
 * ```ts
 * import { it } from 'vitest';
 * import { assertEveryFieldGuarded } from 'clerk-api-auth/graphql';
 * import { schema } from '../server/schema.js';
 *
 * it('guards every field but health and node', () => {
 *   assertEveryFieldGuarded(schema, { public: ['Query.health', 'Query.node'] });
 * });
 * ```
 */
export function assertEveryFieldGuarded(schema: GraphQLSchema, options: AssertEveryFieldGuardedOptions = {}): void {
  const rules = compileRules(schema);
  const listed = new Set(options.public ?? []);
  const problems: string[] = [];
  const seen = new Set<GraphQLObjectType>();
  const queue: GraphQLObjectType[] = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((type): type is GraphQLObjectType => type != null);
  while (queue.length > 0) {
    const type = queue.shift() as GraphQLObjectType;
    if (seen.has(type)) continue;
    seen.add(type);
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (rules.ruleOf(type, field.name) !== undefined) continue;
      if (!listed.has(coordinate)) {
        problems.push(`- ${coordinate}: no rule. Add @auth (or @hasRole / @hasPermission) to it or to ${type.name}, or, if anyone may read it, list '${coordinate}' in { public: [...] }.`);
        continue;
      }
      const named = getNamedType(field.type);
      if (isObjectType(named)) queue.push(named);
      else if (isAbstractType(named)) queue.push(...schema.getPossibleTypes(named));
    }
  }
  for (const coordinate of [...listed].sort()) {
    const [typeName = '', fieldName = ''] = coordinate.split('.');
    const type = schema.getType(typeName);
    if (!isObjectType(type) || type.getFields()[fieldName] === undefined) {
      problems.push(`- '${coordinate}' is listed in { public: [...] } but the schema has no object field by that name: remove it or fix its spelling (Type.field).`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`Every reachable GraphQL field must have a rule or be listed public; ${problems.length === 1 ? 'one has not' : `${problems.length} have not`}:\n${problems.join('\n')}`);
  }
}
