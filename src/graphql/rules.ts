import { getDirective } from '@graphql-tools/utils';
import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { ClerkAuthConfigError, validateRequirement, type AuthRequirement } from '../core/internal.js';
import { CLERK_EXTENSION_KEY, DIRECTIVES, DIRECTIVE_SDL } from './directives.js';

/**
 * The effective rule of one object-type field: everything that applies to it (its own directives,
 * its type's, its interfaces' and its interface fields'), all required together.
 *
 * @internal
 */
export interface FieldRule {
  /** `Type.field`, for messages. */
  readonly coordinate: string;
  /** Every requirement that must hold (AND). */
  readonly requirements: readonly AuthRequirement[];
}

/**
 * A schema compiled once into what the authorization walk needs: the rule of every object field,
 * which types can lead to a rule at all, and interned possible-type lists.
 *
 * @internal
 */
export interface SchemaRules {
  readonly schema: GraphQLSchema;
  /** True when any field anywhere has a rule. */
  readonly any: boolean;
  /** The effective rule of `type.field`, if any. */
  ruleOf(type: GraphQLObjectType, field: string): FieldRule | undefined;
  /** Whether a selection on this type can reach a guarded field (its own or nested). */
  reaches(type: GraphQLNamedType): boolean;
  /** The object types a value of this type can be at runtime (interned: same input, same array). */
  possible(type: GraphQLCompositeType): readonly GraphQLObjectType[];
  /** `current` narrowed by a type condition (interned). */
  narrow(current: readonly GraphQLObjectType[], condition: GraphQLCompositeType): readonly GraphQLObjectType[];
  /** Object fields that carry a rule, by type name. */
  readonly guardedFields: ReadonlyMap<string, ReadonlyMap<string, FieldRule>>;
}

const cache = new WeakMap<GraphQLSchema, SchemaRules>();

/**
 * Compiles (once per schema object) the rules of a schema. Throws `ClerkAuthConfigError` when the
 * schema defines `@auth`, `@hasRole` or `@hasPermission` differently from `clerkDirectiveTypeDefs`,
 * or when a rule is malformed (an unknown key, an empty role list, an unknown token kind or
 * reverification preset...: whatever the core's `validateRequirement` refuses).
 *
 * @internal
 */
export function compileRules(schema: GraphQLSchema): SchemaRules {
  let rules = cache.get(schema);
  if (rules === undefined) {
    rules = build(schema);
    cache.set(schema, rules);
  }
  return rules;
}

type Element = GraphQLObjectType | GraphQLInterfaceType | GraphQLField<unknown, unknown>;

function build(schema: GraphQLSchema): SchemaRules {
  checkDirectiveDefinitions(schema);
  // Equal directive requirements share one object, so a walk checks each distinct one once.
  const interned = new Map<string, AuthRequirement>();
  const intern = (requirement: AuthRequirement): AuthRequirement => {
    const key = JSON.stringify(requirement);
    let shared = interned.get(key);
    if (shared === undefined) interned.set(key, (shared = Object.freeze(requirement)));
    return shared;
  };
  const readRequirements = (element: Element, where: string): AuthRequirement[] => readElementRequirements(schema, element, where, intern);
  const typeMap = schema.getTypeMap();
  const ownTypeRules = new Map<string, AuthRequirement[]>();
  const ownFieldRules = new Map<string, Map<string, AuthRequirement[]>>();

  for (const type of Object.values(typeMap)) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
    const typeRequirements = readRequirements(type, type.name);
    if (typeRequirements.length > 0) ownTypeRules.set(type.name, typeRequirements);
    const fields = new Map<string, AuthRequirement[]>();
    for (const field of Object.values(type.getFields())) {
      const requirements = readRequirements(field as GraphQLField<unknown, unknown>, `${type.name}.${field.name}`);
      if (requirements.length > 0) fields.set(field.name, requirements);
    }
    if (fields.size > 0) ownFieldRules.set(type.name, fields);
  }

  const guardedFields = new Map<string, Map<string, FieldRule>>();
  const byType = new Map<GraphQLObjectType, Map<string, FieldRule>>();
  for (const type of Object.values(typeMap)) {
    if (type.name.startsWith('__') || !isObjectType(type)) continue;
    const interfaces = type.getInterfaces();
    const fieldRules = new Map<string, FieldRule>();
    for (const fieldName of Object.keys(type.getFields())) {
      const requirements: AuthRequirement[] = [];
      requirements.push(...(ownTypeRules.get(type.name) ?? []));
      for (const iface of interfaces) {
        requirements.push(...(ownTypeRules.get(iface.name) ?? []));
        if (iface.getFields()[fieldName] !== undefined) requirements.push(...(ownFieldRules.get(iface.name)?.get(fieldName) ?? []));
      }
      requirements.push(...(ownFieldRules.get(type.name)?.get(fieldName) ?? []));
      if (requirements.length > 0) {
        fieldRules.set(fieldName, Object.freeze({ coordinate: `${type.name}.${fieldName}`, requirements: Object.freeze([...new Set(requirements)]) }));
      }
    }
    if (fieldRules.size > 0) {
      guardedFields.set(type.name, fieldRules);
      byType.set(type, fieldRules);
    }
  }

  const reachable = computeReach(schema, byType);
  const possibleCache = new Map<GraphQLCompositeType, readonly GraphQLObjectType[]>();
  const narrowCache = new Map<readonly GraphQLObjectType[], Map<GraphQLCompositeType, readonly GraphQLObjectType[]>>();
  const possible = (type: GraphQLCompositeType): readonly GraphQLObjectType[] => {
    let list = possibleCache.get(type);
    if (list === undefined) {
      list = Object.freeze(isObjectType(type) ? [type] : [...schema.getPossibleTypes(type)]);
      possibleCache.set(type, list);
    }
    return list;
  };

  return {
    schema,
    any: byType.size > 0,
    guardedFields,
    ruleOf: (type, field) => byType.get(type)?.get(field),
    reaches: (type) => reachable.has(type),
    possible,
    narrow(current, condition) {
      let byCondition = narrowCache.get(current);
      if (byCondition === undefined) {
        byCondition = new Map();
        narrowCache.set(current, byCondition);
      }
      let narrowed = byCondition.get(condition);
      if (narrowed === undefined) {
        const allowed = possible(condition);
        const kept = current.filter((type) => allowed.includes(type));
        // Intern: the same set of types is always the same array, so the walk can memoize on identity.
        narrowed = kept.length === current.length ? current : kept.length === allowed.length ? allowed : Object.freeze(kept);
        byCondition.set(condition, narrowed);
      }
      return narrowed;
    },
  };
}

/** Types from which a selection can reach a guarded field, by a fixpoint over the type graph. */
function computeReach(schema: GraphQLSchema, guarded: ReadonlyMap<GraphQLObjectType, unknown>): Set<GraphQLNamedType> {
  const reach = new Set<GraphQLNamedType>(guarded.keys());
  const composites = Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLCompositeType => !type.name.startsWith('__') && (isObjectType(type) || isInterfaceType(type) || isUnionType(type)),
  );
  let changed = true;
  while (changed) {
    changed = false;
    for (const type of composites) {
      if (reach.has(type)) continue;
      let reaches = false;
      if (isAbstractType(type)) {
        reaches = schema.getPossibleTypes(type).some((member) => reach.has(member));
      }
      if (!reaches && !isUnionType(type)) {
        reaches = Object.values(type.getFields()).some((field) => reach.has(getNamedType(field.type)));
      }
      if (reaches) {
        reach.add(type);
        changed = true;
      }
    }
  }
  return reach;
}

/**
 * The requirements written on one schema element: directives (SDL or `extensions.directives`) and
 * `extensions.clerk`, each checked by the core's `validateRequirement` (the one validator every
 * integration uses), so a malformed rule refuses the schema, naming the element and the fix.
 */
function readElementRequirements(
  schema: GraphQLSchema,
  element: Element,
  where: string,
  intern: (requirement: AuthRequirement) => AuthRequirement,
): AuthRequirement[] {
  const requirements: AuthRequirement[] = [];
  for (const { name, arg, key } of DIRECTIVES) {
    const uses = getDirective(schema, element, name);
    if (!uses) continue;
    for (const args of uses) {
      if (arg === null || key === null) {
        requirements.push(intern({}));
        continue;
      }
      const value: unknown = args?.[arg];
      validateRequirement({ [key]: value }, `@${name} on ${where}`);
      // SDL arguments arrive coerced to a list; `extensions.directives` may hold a single string.
      const list = typeof value === 'string' ? [value] : [...(value as readonly string[])];
      requirements.push(intern({ [key]: Object.freeze(list) }));
    }
  }
  const extension = (element.extensions as Record<string, unknown> | null | undefined)?.[CLERK_EXTENSION_KEY];
  // A Pothos `clerk` option that no plugin wrote to `extensions.clerk` would guard nothing: refuse it.
  if (extension === undefined && (element.extensions as { pothosOptions?: { clerk?: unknown } } | null | undefined)?.pothosOptions?.clerk !== undefined) {
    throw new ClerkAuthConfigError(`${where} has a Pothos \`clerk\` option, but its SchemaBuilder does not list the plugin: add plugins: [clerkPothosPlugin] from clerk-api-auth/pothos.`);
  }
  if (extension !== undefined && extension !== null && extension !== false) {
    if (extension === true) requirements.push(intern({}));
    else if (typeof extension === 'object' && !Array.isArray(extension)) requirements.push(validateRequirement(extension, `extensions.${CLERK_EXTENSION_KEY} on ${where}`));
    else {
      throw new ClerkAuthConfigError(
        `extensions.${CLERK_EXTENSION_KEY} on ${where} must be \`true\` or an AuthRequirement object such as { role: 'org:admin' }; got ${JSON.stringify(extension)}.`,
      );
    }
  }
  return requirements;
}

/** Refuses a schema whose `@auth` / `@hasRole` / `@hasPermission` are not ours: we would misread them. */
function checkDirectiveDefinitions(schema: GraphQLSchema): void {
  for (const { name, arg } of DIRECTIVES) {
    const directive = schema.getDirective(name);
    if (directive === undefined || directive === null) continue;
    if (!matches(directive, arg)) {
      throw new ClerkAuthConfigError(
        `The schema defines @${name} differently from clerk-api-auth (expected \`${DIRECTIVE_SDL[name]}\`). ` +
          'Use clerkDirectiveTypeDefs as the only definition of @auth, @hasRole and @hasPermission.',
      );
    }
  }
}

function matches(directive: GraphQLDirective, arg: string | null): boolean {
  const locations = new Set<string>(directive.locations);
  if (locations.size !== 3 || !['OBJECT', 'INTERFACE', 'FIELD_DEFINITION'].every((location) => locations.has(location))) return false;
  if (directive.isRepeatable) return false;
  const args: readonly GraphQLArgument[] = directive.args;
  if (arg === null) return args.length === 0;
  return args.length === 1 && args[0]?.name === arg && isNonNullStringList(args[0].type);
}

function isNonNullStringList(type: GraphQLInputType): boolean {
  if (!isNonNullType(type) || !isListType(type.ofType)) return false;
  const item = type.ofType.ofType;
  return isNonNullType(item) && getNamedType(item).name === 'String';
}
