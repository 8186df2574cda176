import { Kind, versionInfo, type DocumentNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import {
  ClerkApiUnavailableError,
  expiryOf,
  type AuthCheck,
  type AuthenticateResult,
  type AuthRequirement,
  type RequestAuth,
} from '../core/internal.js';
import { stateFromAuth, stateOf, type ClerkState } from './context.js';
import { decide, planOperation, UNREADABLE_VARIABLES, type Decision, type Plan, type PlanInput } from './plan.js';
import type { SchemaRules } from './rules.js';

/**
 * What one operation was decided: its plan, how it is answered, when the credential the plan admitted
 * stops counting (a subscription that selects a guarded field ends then), and the machine result a
 * rule admitted, if any.
 *
 * @internal
 */
export interface Decided {
  readonly plan: Plan;
  readonly decision: Decision;
  readonly expiresAt: number | undefined;
}

/** Everything an operation's decision depends on. @internal */
export interface DecideInput {
  readonly rules: SchemaRules;
  readonly operation: OperationDefinitionNode;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>;
  readonly variables: PlanInput['variables'];
  readonly rejectUnauthorized: boolean;
  readonly state: ClerkState;
}

/** Stands for a check whose result is being verified; the plan is made again once it is known. */
const PENDING: AuthCheck = { ok: false, error: new ClerkApiUnavailableError() };

/**
 * Decides an operation for the request's credential, before anything runs. Every requirement is
 * checked against the credential as its token kinds see it (an opaque machine token is verified only
 * when a selected field's rule accepts its kind) and as it counts now (expired means signed out).
 * Settles without a promise when every answer is known — the session view always is, by the time
 * an operation runs — and otherwise waits for the verifications the plan needs, then plans again.
 *
 * @internal
 */
export function decideOperation(input: DecideInput): Decided | Promise<Decided> {
  const { request, clerkAuth } = input.state;
  const skew = clerkAuth.config.clockSkewInMs;
  const waits: Promise<unknown>[] = [];
  let expiresAt: number | undefined;
  const plan = planOperation({
    rules: input.rules,
    operation: input.operation,
    fragments: input.fragments,
    variables: input.variables,
    check: (requirement: AuthRequirement) => {
      const result = asked(request, requirement, waits);
      if (result === undefined) return PENDING;
      const check = clerkAuth.check(result, requirement);
      if (check.ok) expiresAt = earliest(expiresAt, expiryOf(result, skew));
      return check;
    },
  });
  if (waits.length > 0) return Promise.all(waits).then(() => decideOperation(input));
  return { plan, decision: decide(plan, input.operation, input.rejectUnauthorized), expiresAt: plan.guarded ? expiresAt : undefined };
}

function asked(request: RequestAuth, requirement: AuthRequirement, waits: Promise<unknown>[]): AuthenticateResult | undefined {
  const kinds = requirement.token ?? 'session_token';
  const now = request.acceptingNow(kinds);
  if (now === undefined) waits.push(Promise.resolve(request.accepting(kinds)));
  return now;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The Clerk state of a context: the one recorded on it, else one read from a Clerk auth object at `auth`. @internal */
export function clerkStateOf(context: unknown): ClerkState | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  return stateOf(context) ?? stateFromAuth(context);
}

/** graphql 17 hands resolvers `{ sources, coerced }`; graphql 16 (and graphql-tools' executor on 16) the coerced map itself. */
const WRAPPED_VARIABLES = versionInfo.major >= 17;

/**
 * Variable values as `@skip`/`@include` see them. Which form `info.variableValues` has is decided by
 * graphql's major version, never by the object's shape: an operation may name its own variables
 * `$coerced` and `$sources`. On graphql 17 a value that is not the `{ sources, coerced }` wrapper is
 * unreadable: every condition on a variable then counts as "selected" (the safe side).
 *
 * @internal
 */
export function variablesOf(info: GraphQLResolveInfo): PlanInput['variables'] {
  const values = info.variableValues as unknown;
  if (typeof values !== 'object' || values === null) return WRAPPED_VARIABLES ? UNREADABLE_VARIABLES : undefined;
  if (!WRAPPED_VARIABLES) return values as Readonly<Record<string, unknown>>;
  const coerced = (values as { coerced?: unknown }).coerced;
  return typeof coerced === 'object' && coerced !== null ? (coerced as Readonly<Record<string, unknown>>) : UNREADABLE_VARIABLES;
}

interface Slot<T> {
  readonly context: object;
  readonly operation: OperationDefinitionNode;
  value: T;
  others?: WeakMap<object, Map<OperationDefinitionNode, { value: T }>>;
}

/** The execution that claimed a context object first: its variable-values object, operation and value. */
interface ContextSlot<T> {
  readonly variables: unknown;
  readonly operation: OperationDefinitionNode;
  value: T;
}

/** Whether a context's slot belongs to this execution (its own variable-values object and operation). */
const isOf = (slot: ContextSlot<unknown>, info: GraphQLResolveInfo): boolean => slot.variables === info.variableValues && slot.operation === info.operation;

/**
 * One decision per execution, for resolvers. The first execution on a context object keeps its value
 * on the context itself (under a symbol of this instance's own: no key, no JSON), checked against the
 * execution's variable-values object (graphql-js and graphql-tools' executor make a fresh one per
 * execution) and operation: an HTTP request's context serves one execution, so nothing else is
 * needed, and nothing is allocated for the garbage collector to trace. Any other execution on the
 * same context (servers that hand graphql-ws one context object per connection run several
 * operations on it at once) is kept apart, keyed by its own variable-values object, checked against
 * the context and the operation: one operation's decision never answers for another's.
 *
 * @internal
 */
export class PerExecution<T> {
  private readonly slots = new WeakMap<object, Slot<T>>();
  private readonly key = Symbol('clerk-api-auth.execution');

  constructor(private readonly make: (context: object, info: GraphQLResolveInfo) => T) {}

  of(context: object, info: GraphQLResolveInfo): T {
    const own = this.claim(context);
    if (own !== undefined) return isOf(own, info) ? own.value : this.shared(context, info);
    if (!Object.isExtensible(context)) return this.shared(context, info);
    const value = this.make(context, info);
    const slot: ContextSlot<T> = { variables: info.variableValues, operation: info.operation, value };
    (context as Record<symbol, ContextSlot<T>>)[this.key] = slot;
    return value;
  }

  /** Replaces the value kept for this execution (e.g. a promise by what it settled to). */
  remember(context: object, info: GraphQLResolveInfo, value: T): void {
    const own = this.claim(context);
    if (own !== undefined && isOf(own, info)) {
      own.value = value;
      return;
    }
    const slot = this.slots.get(info.variableValues as unknown as object);
    if (slot === undefined) return;
    if (slot.context === context && slot.operation === info.operation) slot.value = value;
    else {
      const shared = slot.others?.get(context)?.get(info.operation);
      if (shared !== undefined) shared.value = value;
    }
  }

  /** The slot of the execution that claimed `context` first, if any. */
  private claim(context: object): ContextSlot<T> | undefined {
    return (context as Record<symbol, ContextSlot<T> | undefined>)[this.key];
  }

  /** An execution on a context another execution claimed first. */
  private shared(context: object, info: GraphQLResolveInfo): T {
    const key = info.variableValues as unknown as object;
    const operation = info.operation;
    const slot = this.slots.get(key);
    if (slot !== undefined && slot.context === context && slot.operation === operation) return slot.value;
    const found = slot?.others?.get(context)?.get(operation);
    if (found !== undefined) return found.value;
    const value = this.make(context, info);
    if (slot === undefined) {
      this.slots.set(key, { context, operation, value });
    } else {
      // The same variables object seen by another execution (an executor that shares it): keep both apart.
      slot.others ??= new WeakMap();
      let byOperation = slot.others.get(context);
      if (byOperation === undefined) slot.others.set(context, (byOperation = new Map()));
      byOperation.set(operation, { value });
    }
    return value;
  }
}

const fragmentCache = new WeakMap<DocumentNode, Record<string, FragmentDefinitionNode>>();

/** The fragment definitions of a document, by name (cached: servers reuse parsed documents). @internal */
export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  let fragments = fragmentCache.get(document);
  if (fragments === undefined) {
    fragments = Object.create(null) as Record<string, FragmentDefinitionNode>;
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    fragmentCache.set(document, fragments);
  }
  return fragments;
}
