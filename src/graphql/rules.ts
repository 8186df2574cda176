import { getDirective } from '@graphql-tools/utils';
import {
  buildASTSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  parse,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { ClerkAuthConfigError, validateRequirement, type AuthRequirement } from '../core/internal.js';
import { CLERK_EXTENSION_KEY, clerkDirectiveTypeDefs, DIRECTIVE_NAMES, DIRECTIVE_TYPE_NAMES } from './directives.js';

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
  /** The rules a field name meets on a set of possible types (interned: same input, same object). */
  site(possible: readonly GraphQLObjectType[], field: string): FieldSite;
  /** Object fields that carry a rule, by type name. */
  readonly guardedFields: ReadonlyMap<string, ReadonlyMap<string, FieldRule>>;
}

/**
 * What a field name selected on a set of possible types meets, known from the schema alone: the
 * rule of each possible type that has one, and whether some possible type has none.
 *
 * @internal
 */
export interface FieldSite {
  readonly guarded: ReadonlyArray<{ readonly type: GraphQLObjectType; readonly rule: FieldRule }>;
  readonly unguardedSomewhere: boolean;
}

const cache = new WeakMap<GraphQLSchema, SchemaRules>();

/**
 * Compiles (once per schema object) the rules of a schema. Throws `ClerkAuthConfigError` when the
 * schema defines `@auth`, `@hasRole` or `@hasPermission` (or the enums and input type of their
 * arguments) differently from `clerkDirectiveTypeDefs`,
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
  const possible = (type: GraphQLCompositeType): readonly GraphQLObjectType[] => {
    let list = possibleCache.get(type);
    if (list === undefined) {
      list = Object.freeze(isObjectType(type) ? [type] : [...schema.getPossibleTypes(type)]);
      possibleCache.set(type, list);
    }
    return list;
  };

  const ruleOf = (type: GraphQLObjectType, field: string): FieldRule | undefined => byType.get(type)?.get(field);

  return {
    schema,
    any: byType.size > 0,
    guardedFields,
    ruleOf,
    site: memoizedPair((types: readonly GraphQLObjectType[], field: string): FieldSite => {
      const guarded: Array<{ type: GraphQLObjectType; rule: FieldRule }> = [];
      for (const type of types) {
        const rule = ruleOf(type, field);
        if (rule !== undefined) guarded.push(Object.freeze({ type, rule }));
      }
      return Object.freeze({ guarded: Object.freeze(guarded), unguardedSomewhere: guarded.length < types.length });
    }),
    reaches: (type) => reachable.has(type),
    possible,
    narrow: memoizedPair((current: readonly GraphQLObjectType[], condition: GraphQLCompositeType): readonly GraphQLObjectType[] => {
      const allowed = possible(condition);
      const kept = current.filter((type) => allowed.includes(type));
      // Intern: the same set of types is always the same array, so the walk can memoize on identity.
      return kept.length === current.length ? current : kept.length === allowed.length ? allowed : Object.freeze(kept);
    }),
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

/** The arguments of `@auth` that name a list of values, and the requirement key each one sets. */
const AUTH_LIST_ARGS = ['role', 'permission', 'feature', 'plan', 'appRole', 'scope'] as const;

/**
 * The requirement one use of a directive expresses, from its arguments as `getDirective` hands them
 * over (coerced from SDL: lists are lists, enums their names; from `extensions.directives`: maybe a
 * single string). Checked by the core's `validateRequirement`, so a malformed argument refuses the
 * schema, naming the element and the fix.
 */
function directiveRequirement(name: (typeof DIRECTIVE_NAMES)[number], args: Record<string, unknown> | undefined, where: string): AuthRequirement {
  const at = `@${name} on ${where}`;
  const given = args ?? {};
  const listOf = (value: unknown): unknown => (typeof value === 'string' ? Object.freeze([value]) : Array.isArray(value) ? Object.freeze([...(value as unknown[])]) : value);
  if (name === 'hasRole' || name === 'hasPermission') {
    const key = name === 'hasRole' ? 'role' : 'permission';
    if (given[key] === undefined || given[key] === null) throw new ClerkAuthConfigError(`${at} needs its \`${key}\` argument, e.g. @${name}(${key}: "${key === 'role' ? 'org:admin' : 'org:notes:create'}").`);
    return validateRequirement({ [key]: listOf(given[key]) }, at);
  }
  const requirement: Record<string, unknown> = {};
  for (const [arg, value] of Object.entries(given)) {
    if (value === undefined || value === null) continue;
    if ((AUTH_LIST_ARGS as readonly string[]).includes(arg)) requirement[arg] = listOf(value);
    else if (arg === 'token') {
      const kinds = listOf(value);
      // `token: any` (a list of one, coerced) is the core's 'any'; one kind is that kind.
      requirement.token = Array.isArray(kinds) && kinds.length === 1 ? kinds[0] : kinds;
    } else if (arg === 'reverification' || arg === 'reverifiedWithin') {
      if (requirement.reverification !== undefined) {
        throw new ClerkAuthConfigError(`${at} sets both \`reverification\` and \`reverifiedWithin\`; use one (a preset, or a custom { level, afterMinutes } window).`);
      }
      requirement.reverification = typeof value === 'object' ? Object.freeze({ ...(value as object) }) : value;
    } else if (arg === 'organization') {
      if (value !== false) requirement.organization = value;
    } else requirement[arg] = value; // unknown: the validator names it
  }
  return validateRequirement(requirement, at);
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
  for (const name of DIRECTIVE_NAMES) {
    const uses = getDirective(schema, element, name);
    if (!uses) continue;
    for (const args of uses) requirements.push(intern(directiveRequirement(name, args, where)));
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

/** `clerkDirectiveTypeDefs` built on its own: the definitions a schema's must match. */
let reference: GraphQLSchema | undefined;
function referenceSchema(): GraphQLSchema {
  reference ??= buildASTSchema(parse(`${clerkDirectiveTypeDefs}\ntype Query { _: Boolean }`));
  return reference;
}

/**
 * Refuses a schema whose `@auth` / `@hasRole` / `@hasPermission` (or the enums and input type of
 * their arguments) are not ours: we would misread them. A definition is ours when it has our
 * locations, is not repeatable, and declares our arguments with our types — all of them, or for
 * `@auth` some of them (the argument-less `@auth` of earlier versions is still ours).
 */
function checkDirectiveDefinitions(schema: GraphQLSchema): void {
  const ours = referenceSchema();
  for (const name of DIRECTIVE_NAMES) {
    const directive = schema.getDirective(name);
    if (directive === undefined || directive === null) continue;
    const expected = ours.getDirective(name) as GraphQLDirective;
    if (!matches(directive, expected, name === 'auth')) {
      throw new ClerkAuthConfigError(
        `The schema defines @${name} differently from clerk-api-auth (expected \`${printDirective(expected)}\`). ` +
          'Use clerkDirectiveTypeDefs as the only definition of @auth, @hasRole and @hasPermission.',
      );
    }
  }
  for (const typeName of DIRECTIVE_TYPE_NAMES) {
    const type = schema.getType(typeName);
    if (type === undefined || type === null) continue;
    if (shapeOf(type) !== shapeOf(ours.getType(typeName) as GraphQLNamedType)) {
      throw new ClerkAuthConfigError(
        `The schema defines ${typeName} differently from clerk-api-auth, whose directives read it. ` +
          'Use clerkDirectiveTypeDefs as the only definition of it (and of @auth, @hasRole and @hasPermission).',
      );
    }
  }
}

function matches(directive: GraphQLDirective, expected: GraphQLDirective, subsetAllowed: boolean): boolean {
  const locations = new Set<string>(directive.locations);
  if (locations.size !== expected.locations.length || !expected.locations.every((location) => locations.has(location))) return false;
  if (directive.isRepeatable !== expected.isRepeatable) return false;
  const wanted = new Map(expected.args.map((arg) => [arg.name, String(arg.type)]));
  if (!subsetAllowed && directive.args.length !== wanted.size) return false;
  return directive.args.every((arg) => wanted.get(arg.name) === String(arg.type));
}

function printDirective(directive: GraphQLDirective): string {
  const args = directive.args.map((arg) => `${arg.name}: ${String(arg.type)}`).join(', ');
  return `directive @${directive.name}${args ? `(${args})` : ''} on ${directive.locations.join(' | ')}`;
}

/** An enum's values or an input type's fields, in one comparable string. */
function shapeOf(type: GraphQLNamedType): string {
  if (isEnumType(type)) return `enum ${type.getValues().map((value) => value.name).sort().join(' ')}`;
  if (isInputObjectType(type)) return `input ${Object.values(type.getFields()).map((field) => `${field.name}: ${String(field.type)}`).sort().join(' ')}`;
  return `other ${type.name}`;
}

/**
 * `make` memoized on its two arguments, by identity: the same pair always answers the same object.
 * Keys here come from one schema (its type lists and field names), so the tables stay bounded.
 */
function memoizedPair<A, B, V>(make: (a: A, b: B) => V): (a: A, b: B) => V {
  const table = new Map<A, Map<B, V>>();
  return (a, b) => {
    let byB = table.get(a);
    if (byB === undefined) {
      byB = new Map();
      table.set(a, byB);
    }
    let value = byB.get(b);
    if (value === undefined) {
      value = make(a, b);
      byB.set(b, value);
    }
    return value;
  };
}
