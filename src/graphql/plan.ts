import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { isCredentialRejected, type AuthCheck, type AuthRequirement, type UnauthenticatedError } from '../core/internal.js';
import type { FieldRule, FieldSite, SchemaRules } from './rules.js';

/** Why a field is denied: the core error its rule produced. @internal */
import type { DenialError } from '../core/internal.js';
export type { DenialError };

/**
 * One denied field node of the operation. `byType` holds, for each runtime object type the field can
 * resolve on, the error its rule produced; a runtime type absent from it is allowed (so a field
 * reached through an interface or union is settled at resolution, by its runtime type).
 *
 * @internal
 */
export interface Denial {
  readonly node: FieldNode;
  /** Shared between nodes with the same outcome (same field, same possible types) until one needs more. */
  byType: ReadonlyMap<string, DenialError>;
  /** The error reported for this node during execution, once set (one error per node, not per item). */
  reported: GraphQLError | undefined;
  /** What this execution has reported so far, shared by every denial of the plan. */
  readonly budget: DenialBudget;
}

/**
 * How many denial errors an execution has reported: the first `MAX_DENIAL_ERRORS` denied field
 * nodes get an error each; past that, one error per cause (code and message) stands for the rest.
 *
 * @internal
 */
export interface DenialBudget {
  /** Field nodes that got an error of their own. */
  reported: number;
  /** The one error standing for every further node denied for the same cause, by cause. */
  readonly truncated: Map<string, GraphQLError>;
  /** The same, by the core error itself (one object per rule and caller: a cheaper lookup). */
  readonly truncatedByError: Map<DenialError, GraphQLError>;
}

/**
 * The authorization decision for one operation, made before execution.
 *
 * @internal
 */
export interface Plan {
  /** Denied field nodes; empty when everything selected is allowed. */
  readonly denials: ReadonlyMap<FieldNode, Denial>;
  /** Whether any selected field carries a rule (the answer depends on who is calling). */
  readonly guarded: boolean;
}

/**
 * Variable values that exist but cannot be read (an executor handing over a form we do not know):
 * every `@skip`/`@include` condition on a variable is then treated as "selected", the safe side.
 *
 * @internal
 */
export const UNREADABLE_VARIABLES: unique symbol = Symbol('clerk-api-auth.unreadable-variables');

/** What the walk needs. @internal */
export interface PlanInput {
  readonly rules: SchemaRules;
  readonly operation: OperationDefinitionNode;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>;
  /**
   * Variable values (raw request values or coerced ones; only `@skip`/`@include` conditions are
   * read). `null`/`undefined`: none were given (defaults apply); `UNREADABLE_VARIABLES`: unknown.
   */
  readonly variables: Readonly<Record<string, unknown>> | null | undefined | typeof UNREADABLE_VARIABLES;
  /** Checks one requirement for the current caller. */
  readonly check: (requirement: AuthRequirement) => AuthCheck;
}

const NO_DENIALS: ReadonlyMap<FieldNode, Denial> = new Map();
/** The plans of an operation with nothing denied: selecting no rule, or only allowed ones. */
const EMPTY: Plan = Object.freeze({ denials: NO_DENIALS, guarded: false });
const GUARDED: Plan = Object.freeze({ denials: NO_DENIALS, guarded: true });
const ALLOWED: AuthCheck = Object.freeze({ ok: true });
const UNGUARDED: FieldOutcome = Object.freeze({ denied: undefined, allowedSomewhere: true, guarded: false });
const GUARDED_ALLOWED: FieldOutcome = Object.freeze({ denied: undefined, allowedSomewhere: true, guarded: true });

/**
 * Walks the operation once per field node (fragments, inline fragments and aliases included,
 * `@skip`/`@include` honoured) and decides every guarded field for the current caller. A field
 * reached through an interface or union is decided for every object type it can resolve on; when
 * only some are denied, resolution settles it by the runtime type.
 *
 * The walk is memoized per selection set and possible-type set, so its cost is linear in the size of
 * the document whatever the fragment structure, and subtrees that cannot reach a rule are skipped.
 *
 * @internal
 */
export function planOperation(input: PlanInput): Plan {
  const { rules, operation } = input;
  if (!rules.any) return EMPTY;
  const root = rootType(rules.schema, operation);
  if (!root || !rules.reaches(root)) return EMPTY;
  const walker = new Walker(input);
  // The operation's own selection set is entered once: nothing to memoize there.
  walker.selectionSet(operation.selectionSet, root, rules.possible(root), undefined, false);
  const { denials, guarded } = walker;
  if (denials === undefined) return guarded ? GUARDED : EMPTY;
  return { denials, guarded };
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode): GraphQLObjectType | null | undefined {
  switch (operation.operation) {
    case 'query':
      return schema.getQueryType();
    case 'mutation':
      return schema.getMutationType();
    case 'subscription':
      return schema.getSubscriptionType();
    default:
      return undefined;
  }
}

/** What a field name selected on a set of possible types is, for the current caller. */
interface FieldOutcome {
  /** The error of each possible type that denies it, if any does. */
  readonly denied: ReadonlyMap<string, DenialError> | undefined;
  /** Whether some possible type allows it (so its selection set is walked). */
  readonly allowedSomewhere: boolean;
  /** Whether a rule applies on some possible type. */
  readonly guarded: boolean;
}

/**
 * One walk. Its memo tables are made when first needed: a small operation (the common case) allocates
 * next to nothing beyond its plan.
 */
class Walker {
  denials: Map<FieldNode, Denial> | undefined;
  guarded = false;
  private budget: DenialBudget | undefined;
  private firstRequirement: AuthRequirement | undefined;
  private firstCheck: AuthCheck | undefined;
  private requirementChecks: Map<AuthRequirement, AuthCheck> | undefined;
  private walked: Map<SelectionSetNode, Set<readonly GraphQLObjectType[]>> | undefined;
  private deniedOutcomes: Map<FieldSite, FieldOutcome> | undefined;
  /** `byType` maps that belong to one denial (the others are shared outcomes, copied before a change). */
  private owned: Set<ReadonlyMap<string, DenialError>> | undefined;

  constructor(private readonly input: PlanInput) {}

  /** Walks a selection set for a set of possible types, once (`memoize`: unless it can only be reached once). */
  selectionSet(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    possible: readonly GraphQLObjectType[],
    spreads: Set<string> | undefined,
    memoize = true,
  ): void {
    if (memoize) {
      this.walked ??= new Map();
      let seen = this.walked.get(selectionSet);
      if (seen === undefined) {
        seen = new Set();
        this.walked.set(selectionSet, seen);
      }
      if (seen.has(possible)) return;
      seen.add(possible);
    }

    const { rules, fragments } = this.input;
    for (const selection of selectionSet.selections) {
      if (!this.included(selection.directives)) continue;
      switch (selection.kind) {
        case Kind.FIELD:
          this.field(selection, parent, possible);
          break;
        case Kind.INLINE_FRAGMENT: {
          const condition = selection.typeCondition ? this.compositeType(selection.typeCondition.name.value) : parent;
          if (!condition) break;
          const narrowed = condition === parent ? possible : rules.narrow(possible, condition);
          if (narrowed.length > 0) this.selectionSet(selection.selectionSet, condition, narrowed, spreads);
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          const fragment = fragments[name];
          // A fragment cycle is invalid GraphQL; never loop on one anyway.
          if (!fragment || spreads?.has(name) === true) break;
          const condition = this.compositeType(fragment.typeCondition.name.value);
          if (!condition) break;
          const narrowed = rules.narrow(possible, condition);
          if (narrowed.length === 0) break;
          const path = spreads ?? new Set<string>();
          path.add(name);
          this.selectionSet(fragment.selectionSet, condition, narrowed, path);
          path.delete(name);
          break;
        }
      }
    }
  }

  private field(node: FieldNode, parent: GraphQLCompositeType, possible: readonly GraphQLObjectType[]): void {
    const name = node.name.value;
    // `__typename`, `__schema` and `__type` describe the schema, never guarded data.
    if (name.startsWith('__')) return;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return;
    const definition = parent.getFields()[name];
    if (!definition) return;

    const { rules } = this.input;
    const outcome = this.outcome(possible, name);
    if (outcome.guarded) this.guarded = true;
    if (outcome.denied !== undefined) this.deny(node, outcome.denied);
    // A field denied on every type it can resolve on never runs: nothing below it executes.
    if (!outcome.allowedSomewhere || !node.selectionSet) return;
    const named = getNamedType(definition.type);
    if (!isCompositeType(named) || !rules.reaches(named)) return;
    this.selectionSet(node.selectionSet, named, rules.possible(named), undefined);
  }

  /**
   * The decision for a field name on a set of possible types: the schema's rules there (interned by
   * `SchemaRules.site`), each checked once per walk. An allowed outcome is a shared constant; a denied
   * one is made once per site, so every node selecting the same field on the same types (aliases,
   * repeated fragments) shares it and the walk stays linear in the document.
   */
  private outcome(possible: readonly GraphQLObjectType[], name: string): FieldOutcome {
    const site = this.input.rules.site(possible, name);
    if (site.guarded.length === 0) return UNGUARDED;
    const known = this.deniedOutcomes?.get(site);
    if (known !== undefined) return known;
    let denied: Map<string, DenialError> | undefined;
    let allowedSomewhere = site.unguardedSomewhere;
    for (const { type, rule } of site.guarded) {
      const check = this.check(rule);
      if (check.ok) {
        allowedSomewhere = true;
        continue;
      }
      denied ??= new Map();
      if (!denied.has(type.name)) denied.set(type.name, check.error);
    }
    if (denied === undefined) return GUARDED_ALLOWED;
    const outcome: FieldOutcome = { denied, allowedSomewhere, guarded: true };
    (this.deniedOutcomes ??= new Map()).set(site, outcome);
    return outcome;
  }

  /** Records a denied node; a node reached again on other types adds them (copying a shared map first). */
  private deny(node: FieldNode, denied: ReadonlyMap<string, DenialError>): void {
    this.denials ??= new Map();
    const denial = this.denials.get(node);
    if (denial === undefined) {
      this.budget ??= { reported: 0, truncated: new Map(), truncatedByError: new Map() };
      this.denials.set(node, { node, byType: denied, reported: undefined, budget: this.budget });
      return;
    }
    for (const [type, error] of denied) {
      if (denial.byType.has(type)) continue;
      let own = denial.byType as Map<string, DenialError>;
      this.owned ??= new Set();
      if (!this.owned.has(own)) {
        own = new Map(denial.byType);
        this.owned.add(own);
        denial.byType = own;
      }
      own.set(type, error);
    }
  }

  /** A rule's requirements, all of them (each checked once per walk): the first failing one's answer, else allowed. */
  private check(rule: FieldRule): AuthCheck {
    for (const requirement of rule.requirements) {
      const outcome = this.requirement(requirement);
      if (!outcome.ok) return outcome;
    }
    return ALLOWED;
  }

  /** One requirement for the current caller, checked once per walk (most operations meet one or two). */
  private requirement(requirement: AuthRequirement): AuthCheck {
    if (requirement === this.firstRequirement) return this.firstCheck as AuthCheck;
    let outcome = this.requirementChecks?.get(requirement);
    if (outcome !== undefined) return outcome;
    outcome = this.input.check(requirement);
    if (this.firstRequirement === undefined) {
      this.firstRequirement = requirement;
      this.firstCheck = outcome;
    } else (this.requirementChecks ??= new Map()).set(requirement, outcome);
    return outcome;
  }

  private compositeType(name: string): GraphQLCompositeType | undefined {
    const type = this.input.rules.schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }

  /** `@skip(if:)` / `@include(if:)`; a condition that cannot be read is treated as "selected" (the safe side). */
  private included(directives: readonly DirectiveNode[] | undefined): boolean {
    if (directives === undefined || directives.length === 0) return true;
    for (const directive of directives) {
      const name = directive.name.value;
      if (name !== 'skip' && name !== 'include') continue;
      const condition = directive.arguments?.find((argument) => argument.name.value === 'if');
      const value = condition ? this.booleanOf(condition.value) : undefined;
      if (name === 'skip' && value === true) return false;
      if (name === 'include' && value === false) return false;
    }
    return true;
  }

  private booleanOf(value: ValueNode): boolean | undefined {
    if (value.kind === Kind.BOOLEAN) return value.value;
    if (value.kind !== Kind.VARIABLE) return undefined;
    const name = value.name.value;
    const { variables, operation } = this.input;
    if (variables === UNREADABLE_VARIABLES) return undefined;
    if (variables && Object.prototype.hasOwnProperty.call(variables, name)) {
      const given = variables[name];
      return typeof given === 'boolean' ? given : undefined;
    }
    const definition = operation.variableDefinitions?.find((variable) => variable.variable.name.value === name);
    const fallback = definition?.defaultValue;
    return fallback?.kind === Kind.BOOLEAN ? fallback.value : undefined;
  }
}

/**
 * How an operation is answered, given its plan: run it as is, run it with the denied fields nulled
 * (queries only), or reject it whole before anything runs.
 *
 * @internal
 */
export type Decision = 'run' | 'partial' | 'reject';

/**
 * Mutations and subscriptions that select anything denied, queries under `rejectUnauthorized`, and
 * any operation where a presented credential was rejected or Clerk was unreachable are rejected whole.
 *
 * @internal
 */
export function decide(plan: Plan, operation: OperationDefinitionNode, rejectUnauthorized: boolean): Decision {
  if (plan.denials.size === 0) return 'run';
  if (operation.operation !== 'query' || rejectUnauthorized) return 'reject';
  for (const denial of plan.denials.values()) {
    for (const error of denial.byType.values()) if (rejectsWhole(error)) return 'reject';
  }
  return 'partial';
}

/**
 * A presented-but-rejected credential (401 `invalid_token`) or Clerk unreachable (503): never partial
 * data. Recognised by the stable `code`, never `instanceof`: the error may come from the other build
 * of the core (a `ClerkAuth` made by the CommonJS build checking for the ESM integration).
 */
function rejectsWhole(error: DenialError): boolean {
  if (error.code === 'CLERK_API_UNAVAILABLE' || error.code === 'INVALID_REQUEST') return true;
  return error.code === 'UNAUTHENTICATED' && isCredentialRejected((error as UnauthenticatedError).reason);
}
