import { GraphQLError, type ExecutionResult, type GraphQLResolveInfo } from 'graphql';
import { ClerkApiUnavailableError, ClerkAuthError, ForbiddenError, UnauthenticatedError } from '../core/errors.js';
import { SignedOutReason } from '../core/reasons.js';
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
  /** `UNAUTHENTICATED` (nobody validly signed in), `FORBIDDEN` (signed in, lacks a role or permission), `CLERK_API_UNAVAILABLE` (retry). */
  code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CLERK_API_UNAVAILABLE';
  /** For `UNAUTHENTICATED`: why, e.g. `token-missing` or `token-expired`. */
  reason?: SignedOutReason;
  [key: string]: unknown;
}

const denialOfError = new WeakMap<GraphQLError, Denial>();

function extensionsOf(error: DenialError): ClerkGraphQLErrorExtensions {
  if (error instanceof UnauthenticatedError) return { code: 'UNAUTHENTICATED', reason: error.reason };
  if (error instanceof ForbiddenError) return { code: 'FORBIDDEN' };
  return { code: 'CLERK_API_UNAVAILABLE' };
}

/** Priority of a whole-operation answer: Clerk unreachable (503), then who-are-you (401), then forbidden (403). */
function rank(error: DenialError): number {
  if (error instanceof ClerkApiUnavailableError) return 0;
  if (error instanceof UnauthenticatedError) return 1;
  return 2;
}

function primaryError(denial: Denial): DenialError {
  let best: DenialError | undefined;
  for (const error of denial.byType.values()) if (best === undefined || rank(error) < rank(best)) best = error;
  return best as DenialError;
}

/** HTTP status and headers for a whole-operation rejection caused by `error`. @internal */
export function httpOf(error: DenialError): { status: number; headers: Record<string, string> } {
  if (error instanceof ClerkApiUnavailableError) return { status: 503, headers: { 'Retry-After': String(error.retryAfterSeconds) } };
  return { status: error.status, headers: { 'WWW-Authenticate': error.wwwAuthenticate } };
}

/**
 * The errors of an operation rejected whole: one per denied field node, located at the node. The
 * first error of the strongest cause (503, then 401, then 403) carries `extensions.http` (status and
 * `WWW-Authenticate` / `Retry-After`), which GraphQL Yoga (and Apollo Server) turn into the HTTP
 * answer and strip from the body.
 *
 * @internal
 */
export function rejectionErrors(plan: Plan): GraphQLError[] {
  const causes = [...plan.denials.values()].map((denial) => ({ denial, error: primaryError(denial) }));
  let strongest = causes[0]?.error;
  for (const { error } of causes) if (strongest === undefined || rank(error) < rank(strongest)) strongest = error;
  return causes.map(({ denial, error }) => {
    const extensions: Record<string, unknown> = { ...extensionsOf(error) };
    if (error === strongest) {
      extensions.http = httpOf(error);
      strongest = undefined;
    }
    return new GraphQLError(error.message, { nodes: [denial.node], extensions });
  });
}

/**
 * The error a denied field raises at resolution (it becomes null there, with this error at its path).
 * No `extensions.http`: the response stays HTTP 200 with partial data.
 *
 * @internal
 */
export function fieldError(denial: Denial, error: DenialError, info: GraphQLResolveInfo): GraphQLError {
  // Located here (nodes and path), so the executor records it as is instead of wrapping it again.
  const graphQLError = new GraphQLError(error.message, { nodes: info.fieldNodes, path: pathToArray(info.path), extensions: { ...extensionsOf(error) } });
  denialOfError.set(graphQLError, denial);
  return graphQLError;
}

/** The error that ends a subscription whose token expired. @internal */
export function expiredError(): GraphQLError {
  const error = new UnauthenticatedError(SignedOutReason.TokenExpired);
  return new GraphQLError(
    'The token of this subscription expired. Subscribe again with a fresh Clerk token.',
    { extensions: { ...extensionsOf(error) } },
  );
}

function pathToArray(path: GraphQLResolveInfo['path'] | undefined): Array<string | number> {
  const keys: Array<string | number> = [];
  for (let current = path; current !== undefined; current = current.prev) keys.push(current.key);
  return keys.reverse();
}

function denialOf(error: GraphQLError): Denial | undefined {
  const direct = denialOfError.get(error);
  if (direct !== undefined) return direct;
  const original = error.originalError;
  return original instanceof GraphQLError ? denialOfError.get(original) : undefined;
}

/**
 * Keeps one error per denied field node. A denied field inside a list raises at every item (the
 * executor needs it for null propagation through non-null types); the response keeps only the first.
 *
 * @internal
 */
export function dedupeDenialErrors<T extends ExecutionResult>(result: T): T {
  const errors = result.errors;
  if (errors === undefined || errors.length < 2) return result;
  const seen = new Set<Denial>();
  let dropped = false;
  const kept = errors.filter((error) => {
    const denial = denialOf(error);
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
 * holds a secret, instead of being masked as "Unexpected error.".
 *
 * @internal
 */
export function exposeClerkErrors<T extends ExecutionResult>(result: T): T {
  const errors = result.errors;
  if (errors === undefined || errors.length === 0) return result;
  let changed = false;
  const mapped = errors.map((error) => {
    const original = error.originalError;
    if (!(original instanceof ClerkAuthError)) return error;
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
