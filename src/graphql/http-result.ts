import { GraphQLError, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import { challengeOf, type DenialError } from '../core/internal.js';
import { dedupeDenialErrors, exposeClerkErrors } from './errors.js';

/**
 * The HTTP answer to a GraphQL result: its status, the headers to send, and the body to send as JSON.
 *
 * @example
 * ```ts
 * const { status, headers, body }: ClerkHttpResult = clerkHttpResult(await graphql({ schema, source, contextValue }));
 * return Response.json(body, { status, headers });
 * ```
 */
export interface ClerkHttpResult<TResult extends ExecutionResult = ExecutionResult> {
  /** 200, or the status of the denial that rejected the operation (401, 403, 400, 503, ...). */
  readonly status: number;
  /** `WWW-Authenticate` (every 400 / 401 / 403) and `Retry-After` (503) of that denial; empty otherwise. */
  readonly headers: Readonly<Record<string, string>>;
  /** The result without any error's `extensions.http`, each denial error once: send it as JSON. */
  readonly body: TResult;
}

/** `extensions.http` as this package writes it (`headers` a plain object) or Apollo Server does (a `Map`). */
interface HttpExtension {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
}

/**
 * Turns a GraphQL result — from `graphql()`, `execute()` or `subscribe()` on a schema from
 * `clerkDirectiveTransformer` — into its HTTP answer: for an operation the rules rejected whole
 * (a mutation or subscription selecting a denied field, a query under `rejectUnauthorized`, any
 * operation sent with a token that failed verification), the status and headers of that denial by
 * the core's one precedence (503 > 400 > 401 > 403), `WWW-Authenticate` on every 400 / 401 / 403
 * and `Retry-After` on a 503; otherwise 200, partial data included. The body is the result with
 * every error's `extensions.http` removed (the client reads the status and headers instead), each
 * denial error kept once, and errors this package's own code raised in a resolver (e.g.
 * `ClerkSecretKeyRequiredError`) with their `code`.
 *
 * Any `extensions.http` (`{ status, headers }`, headers a plain object or a `Map`) is honoured the
 * same way, yours included; a result without one answers 200.
 *
 * @param result - What `graphql()` / `execute()` returned (awaited).
 *
 * @example
 * ```ts
 * import { graphql } from 'graphql';
 * import { clerkHttpResult, createClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const clerkContext = createClerkGraphQLContext();
 * export async function handle(request: Request): Promise<Response> {
 *   const { query, variables } = (await request.json()) as { query: string; variables?: Record<string, unknown> };
 *   const result = await graphql({ schema, source: query, variableValues: variables, contextValue: await clerkContext(request) });
 *   const { status, headers, body } = clerkHttpResult(result);
 *   return Response.json(body, { status, headers });
 * }
 * ```
 */
export function clerkHttpResult<TResult extends ExecutionResult>(result: TResult): ClerkHttpResult<TResult> {
  if (result.errors === undefined || result.errors.length === 0) return { status: 200, headers: {}, body: result };
  const cleaned = exposeClerkErrors(dedupeDenialErrors(result));
  const https: unknown[] = [];
  /** A rejection raised at several root fields reaches the result once per field, each wrapping the one error. */
  const rejections = new Set<unknown>();
  const kept: GraphQLError[] = [];
  for (const error of cleaned.errors ?? []) {
    const { http, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
    if (http === undefined) {
      kept.push(error);
      continue;
    }
    const raised = error.originalError ?? error;
    if (rejections.has(raised)) continue;
    rejections.add(raised);
    https.push({ code: extensions.code, http });
    kept.push(
      new GraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError,
        extensions,
      }),
    );
  }
  const body = (rejections.size > 0 ? { ...cleaned, errors: kept } : cleaned) as TResult;
  const answer = httpOfExtensions(https);
  return answer === undefined ? { status: 200, headers: {}, body } : { ...answer, body };
}

/**
 * The status and headers the `extensions.http` of a response's errors ask for (`{ status, headers }`,
 * headers a plain object or a `Map`), combined by the core's one precedence (`challengeOf`): the
 * status of the strongest; its `WWW-Authenticate`; `Retry-After` when one is a 503; other headers
 * as given (the first of each name). `undefined` when none carries a status.
 *
 * @param extensions - The `extensions` of each error (only their `code` and `http` are read).
 * @internal
 */
export function httpOfExtensions(extensions: Iterable<unknown>): { status: number; headers: Record<string, string> } | undefined {
  const denials: DenialError[] = [];
  const extra: Record<string, string> = {};
  for (const entry of extensions) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { code, http } = entry as { code?: unknown; http?: unknown };
    if (!isHttpExtension(http)) continue;
    const headers = headerEntries(http.headers);
    if (http.status !== undefined) denials.push(denialOf(code, http.status, headers));
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      if (lower !== 'www-authenticate' && lower !== 'retry-after' && !(name in extra)) extra[name] = value;
    }
  }
  if (denials.length === 0) return undefined;
  const challenge = challengeOf(denials);
  return { status: challenge.status, headers: { ...extra, ...challenge.headers } };
}

/**
 * The same result as `clerkHttpResult(result).body`, formatted (plain JSON objects): what graphql-ws's
 * `onNext` returns. @internal
 */
export function formattedBody(result: ExecutionResult): FormattedExecutionResult {
  const { body } = clerkHttpResult(result);
  const { errors, ...rest } = body;
  return errors === undefined ? (rest as FormattedExecutionResult) : { ...(rest as FormattedExecutionResult), errors: errors.map((error) => error.toJSON()) };
}

function isHttpExtension(value: unknown): value is HttpExtension {
  if (typeof value !== 'object' || value === null) return false;
  const { status, headers } = value as { status?: unknown; headers?: unknown };
  return (status === undefined || (typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599)) && (headers === undefined || (typeof headers === 'object' && headers !== null));
}

function headerEntries(headers: HttpExtension['headers']): Array<[string, string]> {
  if (headers === undefined) return [];
  const entries: Array<[string, string]> = [];
  const source: Iterable<[string, unknown]> = headers instanceof Map ? (headers as ReadonlyMap<string, unknown>).entries() : Object.entries(headers);
  for (const [name, value] of source) if (typeof value === 'string') entries.push([name, value]);
  return entries;
}

/**
 * What `challengeOf` reads of a denial (`code`, `status`, `wwwAuthenticate`, `retryAfterSeconds`),
 * from an error's `extensions`: the denial was mapped to its status and headers by the core when the
 * error was raised; several are combined here by the same precedence.
 */
function denialOf(code: unknown, status: number, headers: ReadonlyArray<[string, string]>): DenialError {
  let wwwAuthenticate: string | undefined;
  let retryAfterSeconds: number | undefined;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'www-authenticate') wwwAuthenticate ??= value;
    else if (lower === 'retry-after') retryAfterSeconds ??= Number(value);
  }
  // A 503 speaks first and comes with Retry-After, whoever raised it; an unknown code ranks as a 403 does.
  const rankedAs = status === 503 ? 'CLERK_API_UNAVAILABLE' : typeof code === 'string' ? code : 'FORBIDDEN';
  return { code: rankedAs, status, wwwAuthenticate, retryAfterSeconds } as unknown as DenialError;
}
