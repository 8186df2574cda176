import { GraphQLError, isNonNullType, type ExecutionResult, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import {
  challengeOf,
  denialRank,
  SignedOutReason,
  type ClerkAuthError,
  type ForbiddenError,
  type InvalidRequestError,
  type MissingEntitlements,
  type PaymentRequiredError,
  type ReverificationHint,
  type UnauthenticatedError,
} from '../core/internal.js';
import type { Denial, DenialError, Plan } from './plan.js';

/**
 * The `extensions` of every authorization error this package puts in a GraphQL response.
 *
 * @example
 * ```ts
 * const response = await fetch('/graphql', { method: 'POST', body });
 * const { errors } = (await response.json()) as { errors?: Array<{ extensions?: ClerkGraphQLErrorExtensions }> };
 * if (errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) await refreshToken();
 * ```
 */
export interface ClerkGraphQLErrorExtensions {
  /**
   * `UNAUTHENTICATED` (nobody validly signed in: refresh the token when `reason` says it expired),
   * `INVALID_REQUEST` (several credentials or a malformed one: fix the request), `PAYMENT_REQUIRED`
   * (signed in, the plan lacks a billing feature or plan: `missing` names it), `FORBIDDEN` (signed
   * in, lacks a role, permission or active organization — or only a recent reverification, then
   * with `clerk_error`), `CLERK_API_UNAVAILABLE` (retry).
   */
  code: 'UNAUTHENTICATED' | 'INVALID_REQUEST' | 'PAYMENT_REQUIRED' | 'FORBIDDEN' | 'CLERK_API_UNAVAILABLE';
  /** For `UNAUTHENTICATED` and `INVALID_REQUEST`: why, e.g. `token-missing`, `token-expired`, `multiple-authorization-headers`. */
  reason?: SignedOutReason;
  /**
   * For a `FORBIDDEN` whose only missing part is a recent reverification: Clerk's reverification
   * hint, which Clerk's `useReverification` (through `clerkReverification` of `clerk-api-auth/client`)
   * turns into a prompt and a retry.
   */
  clerk_error?: ReverificationHint['clerk_error'];
  /** For `PAYMENT_REQUIRED`: the billing features and plans the caller lacks. */
  missing?: MissingEntitlements;
  [key: string]: unknown;
}

/**
 * At most this many denied field nodes of one operation get an error of their own. Past it, every
 * further node is still null (non-null fields still raise, so null propagates as the spec requires),
 * and one error per cause (code and message) stands for them all, with `extensions.truncated: true`.
 * This keeps a denial's response and its cost (a GraphQLError computes its `locations` by scanning
 * the document) bounded whatever the number of aliases, while an ordinary operation still gets one
 * error per denied field node.
 *
 * @internal
 */
export const MAX_DENIAL_ERRORS = 20;

/** The errors this package raised for denied fields, so duplicates of them can be dropped. */
const denialErrors = new WeakSet<GraphQLError>();

/** Stable codes of the core's errors, with the status and class name each comes with. */
const CORE_ERRORS: Readonly<Record<string, { status: number; names: readonly string[] }>> = {
  INVALID_REQUEST: { status: 400, names: ['InvalidRequestError'] },
  UNAUTHENTICATED: { status: 401, names: ['UnauthenticatedError'] },
  PAYMENT_REQUIRED: { status: 402, names: ['PaymentRequiredError'] },
  FORBIDDEN: { status: 403, names: ['ForbiddenError'] },
  CLERK_API_UNAVAILABLE: { status: 503, names: ['ClerkApiUnavailableError'] },
  CLERK_AUTH_CONFIG: { status: 500, names: ['ClerkAuthConfigError'] },
  CLERK_SECRET_KEY_REQUIRED: { status: 500, names: ['ClerkSecretKeyRequiredError'] },
};

/**
 * Whether a value is an error of this package's core, from either build (CommonJS or ESM): by its
 * stable `code`, the `status` and class name that go with it, never `instanceof` (a `ClerkAuth` made
 * by one build may meet the integration of the other).
 */
function isClerkAuthError(value: unknown): value is ClerkAuthError {
  if (!(value instanceof Error)) return false;
  const { code, status } = value as Partial<ClerkAuthError>;
  const known = typeof code === 'string' && Object.prototype.hasOwnProperty.call(CORE_ERRORS, code) ? CORE_ERRORS[code] : undefined;
  return known !== undefined && status === known.status && (known.names.includes(value.name) || value.name === 'ClerkAuthError');
}

/** The response `extensions` of a denial, by the error's stable `code` (never `instanceof`, see `isClerkAuthError`). */
function extensionsOf(error: DenialError): ClerkGraphQLErrorExtensions {
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return { code: 'UNAUTHENTICATED', reason: (error as UnauthenticatedError).reason };
    case 'INVALID_REQUEST':
      return { code: 'INVALID_REQUEST', reason: (error as InvalidRequestError).reason };
    case 'PAYMENT_REQUIRED':
      return { code: 'PAYMENT_REQUIRED', missing: (error as PaymentRequiredError).missing };
    case 'FORBIDDEN': {
      const clerkError = (error as ForbiddenError).clerkError;
      return clerkError === undefined ? { code: 'FORBIDDEN' } : { code: 'FORBIDDEN', clerk_error: clerkError };
    }
    default:
      return { code: 'CLERK_API_UNAVAILABLE' };
  }
}

/** Priority of a whole-operation answer: the core's one precedence (503 > 400 > 401 > 403 > 402 > 403 with a reverification hint). */
const rank = denialRank;

/** Denials with the same code and message are one cause (the message names the reason or what is lacking). */
function causeOf(error: DenialError): string {
  return `${error.code}\u0000${error.message}`;
}

function primaryError(denial: Denial): DenialError {
  let best: DenialError | undefined;
  for (const error of denial.byType.values()) if (best === undefined || rank(error) < rank(best)) best = error;
  return best as DenialError;
}

/** HTTP status and headers for a whole-operation rejection caused by `errors`: the core's one mapping. @internal */
export function httpOf(errors: DenialError | Iterable<DenialError>): { status: number; headers: Record<string, string> } {
  const { status, headers } = challengeOf(errors);
  return { status, headers: { ...headers } };
}

/**
 * The errors of an operation rejected whole: one per denied field node, located at the node, for
 * the first `MAX_DENIAL_ERRORS` nodes; past that, one error per cause stands for the rest (located at
 * the first of them, `extensions.truncated: true`, `extensions.omitted`: how many). The first error
 * of the strongest cause (the core's precedence) carries `extensions.http` (status and
 * `WWW-Authenticate` / `Retry-After`), which GraphQL Yoga (and Apollo Server) turn into the HTTP
 * answer and strip from the body.
 *
 * @internal
 */
export function rejectionErrors(plan: Plan): GraphQLError[] {
  type Entry = { error: DenialError; node: FieldNode; omitted: number };
  const listed: Entry[] = [];
  const omitted = new Map<string, Entry>();
  const omittedByError = new Map<DenialError, Entry>();
  let strongest: DenialError | undefined;
  for (const denial of plan.denials.values()) {
    const error = primaryError(denial);
    if (strongest === undefined || rank(error) < rank(strongest)) strongest = error;
    if (listed.length < MAX_DENIAL_ERRORS) {
      listed.push({ error, node: denial.node, omitted: 0 });
      continue;
    }
    let summary = omittedByError.get(error);
    if (summary === undefined) {
      const cause = causeOf(error);
      summary = omitted.get(cause);
      if (summary === undefined) omitted.set(cause, (summary = { error, node: denial.node, omitted: 0 }));
      omittedByError.set(error, summary);
    }
    summary.omitted++;
  }
  let http = strongest === undefined ? undefined : rank(strongest);
  return [...listed, ...omitted.values()].map(({ error, node, omitted: count }) => {
    const extensions: Record<string, unknown> = { ...extensionsOf(error) };
    if (count > 0) Object.assign(extensions, { truncated: true, omitted: count });
    if (http !== undefined && rank(error) === http) {
      extensions.http = httpOf(error);
      http = undefined;
    }
    const message = count > 0 ? `${error.message} (${count} more selected field${count === 1 ? ' is' : 's are'} denied for the same reason.)` : error.message;
    return new GraphQLError(message, { nodes: [node], extensions });
  });
}

/**
 * The one error that rejects an operation at its root fields (`clerkDirectiveTransformer`): the
 * first denied node of the strongest cause, with `extensions.http`.
 *
 * @internal
 */
export function rejectionError(plan: Plan): GraphQLError | undefined {
  let strongest: { error: DenialError; node: FieldNode } | undefined;
  for (const denial of plan.denials.values()) {
    const error = primaryError(denial);
    if (strongest === undefined || rank(error) < rank(strongest.error)) strongest = { error, node: denial.node };
  }
  if (strongest === undefined) return undefined;
  const { error, node } = strongest;
  return new GraphQLError(error.message, { nodes: [node], extensions: { ...extensionsOf(error), http: httpOf(error) } });
}

/**
 * The error a denied field raises at resolution (it becomes null there, with this error at its path).
 * No `extensions.http`: the response stays HTTP 200 with partial data.
 *
 * @internal
 */
export function fieldError(_denial: Denial, error: DenialError, info: GraphQLResolveInfo): GraphQLError {
  // Located here (nodes and path), so the executor records it as is instead of wrapping it again.
  const graphQLError = new GraphQLError(error.message, { nodes: info.fieldNodes, path: pathToArray(info.path), extensions: { ...extensionsOf(error) } });
  denialErrors.add(graphQLError);
  return graphQLError;
}

/** The one error standing for every further field denied for the same cause, once the budget is spent. */
function truncatedError(error: DenialError, info: GraphQLResolveInfo): GraphQLError {
  const graphQLError = new GraphQLError(
    `${error.message} Further fields denied for the same reason are null without an error of their own ` +
      `(an operation reports at most ${MAX_DENIAL_ERRORS} denied fields one by one).`,
    { nodes: info.fieldNodes, path: pathToArray(info.path), extensions: { ...extensionsOf(error), truncated: true } },
  );
  denialErrors.add(graphQLError);
  return graphQLError;
}

/**
 * Resolves a field node the plan denied for this runtime type: null, with an error where one is
 * due. A node's first occurrence raises its own error while the execution's budget lasts
 * (`MAX_DENIAL_ERRORS`), else the one error of its cause (raised at the first such node). Later
 * occurrences (list items) and nodes past the budget are null without a new error when the field is
 * nullable; a non-null field always raises (null must propagate), with the error already built,
 * which the response drops as a duplicate (`dedupeDenialErrors`).
 *
 * @internal
 */
export function deniedField(denial: Denial, error: DenialError, info: GraphQLResolveInfo): null {
  let reported = denial.reported;
  if (reported === undefined) {
    const { budget } = denial;
    if (budget.reported < MAX_DENIAL_ERRORS) {
      budget.reported++;
      throw (denial.reported = fieldError(denial, error, info));
    }
    reported = budget.truncatedByError.get(error);
    if (reported === undefined) {
      const cause = causeOf(error);
      reported = budget.truncated.get(cause);
      if (reported === undefined) {
        reported = truncatedError(error, info);
        budget.truncated.set(cause, reported);
        budget.truncatedByError.set(error, reported);
        throw (denial.reported = reported);
      }
      budget.truncatedByError.set(error, reported);
    }
    denial.reported = reported;
  }
  if (isNonNullType(info.returnType)) throw reported;
  return null;
}

/** The error that ends a subscription whose token expired. @internal */
export function expiredError(): GraphQLError {
  const extensions: ClerkGraphQLErrorExtensions = { code: 'UNAUTHENTICATED', reason: SignedOutReason.TokenExpired };
  return new GraphQLError('The token of this subscription expired. Subscribe again with a fresh Clerk token.', { extensions });
}

function pathToArray(path: GraphQLResolveInfo['path'] | undefined): Array<string | number> {
  const keys: Array<string | number> = [];
  for (let current = path; current !== undefined; current = current.prev) keys.push(current.key);
  return keys.reverse();
}

/** The denial error this response error is (or wraps), if any. */
function denialErrorOf(error: GraphQLError): GraphQLError | undefined {
  if (denialErrors.has(error)) return error;
  const original: unknown = error.originalError;
  return typeof original === 'object' && original !== null && denialErrors.has(original as GraphQLError) ? (original as GraphQLError) : undefined;
}

/**
 * Keeps each denial error once. A denied non-null field raises at every list item, and every denied
 * node past the budget raises its cause's one error (the executor needs them for null propagation
 * through non-null types); the response keeps only the first.
 *
 * @internal
 */
export function dedupeDenialErrors<T extends ExecutionResult>(result: T): T {
  const errors = result.errors;
  if (errors === undefined || errors.length < 2) return result;
  const seen = new Set<GraphQLError>();
  let dropped = false;
  const kept = errors.filter((error) => {
    const denial = denialErrorOf(error);
    if (denial === undefined) return true;
    if (seen.has(denial)) {
      dropped = true;
      return false;
    }
    seen.add(denial);
    return true;
  });
  return dropped ? { ...result, errors: kept } : result;
}

/**
 * Errors of this package thrown by resolvers (e.g. `ClerkSecretKeyRequiredError` when `ctx.clerk` is
 * used without a secret key) reach the client with their stable code and their message, which never
 * holds a secret, instead of being masked as "Unexpected error.". Recognised by code, status and
 * name, so an error of either build (CommonJS or ESM) is.
 *
 * @internal
 */
export function exposeClerkErrors<T extends ExecutionResult>(result: T): T {
  const errors = result.errors;
  if (errors === undefined || errors.length === 0) return result;
  let changed = false;
  const mapped = errors.map((error) => {
    const original = error.originalError;
    if (!isClerkAuthError(original)) return error;
    changed = true;
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code: original.code },
    });
  });
  return changed ? { ...result, errors: mapped } : result;
}
