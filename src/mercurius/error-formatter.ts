import mercurius from 'mercurius';
import type { ExecutionResult, FormattedExecutionResult, GraphQLError } from 'graphql';
import { dedupeDenialErrors, exposeClerkErrors } from '../graphql/errors.js';
import { httpAnswerOf, isRejection, withoutHttp, type HttpAnswer } from './http.js';

/**
 * A Mercurius `errorFormatter`: what it is handed (an execution result with errors, and the
 * operation's context, whatever its type) and what it answers (the HTTP status and the body).
 * Mercurius's own `defaultErrorFormatter` is one.
 *
 * @example
 * ```ts
 * const formatter: MercuriusErrorFormatter = (execution) => ({ statusCode: 200, response: { data: execution.data ?? null, errors: execution.errors } });
 * ```
 */
export type MercuriusErrorFormatter = (
  execution: ExecutionResult & { readonly errors: ReadonlyArray<GraphQLError> },
  context: never,
) => { statusCode: number; response: ExecutionResult | FormattedExecutionResult };

/**
 * The error formatter `clerkMercurius` gives Mercurius: any context is fine.
 *
 * @example
 * ```ts
 * const formatter: ClerkErrorFormatter = clerkMercurius().errorFormatter();
 * ```
 */
export type ClerkErrorFormatter = (
  execution: ExecutionResult & { readonly errors: ReadonlyArray<GraphQLError> },
  context: unknown,
) => { statusCode: number; response: ExecutionResult | FormattedExecutionResult };

type Formatter = ClerkErrorFormatter;

interface FormatterContext {
  reply?: { header?: unknown };
  operationsCount?: unknown;
}

/**
 * The error formatter: the operation's errors as this package shapes them (a denial once per field
 * node, this package's own errors with their code), then `inner` (Mercurius's default formatter
 * unless you have your own). An operation rejected whole answers the rejection's status (401, 403,
 * 400 or 503) with its `WWW-Authenticate` / `Retry-After` headers set on Fastify's reply, one error and
 * no `data`. `extensions.http` never reaches the body. In a batch (`allowBatchedQueries`), the
 * status and headers stay each operation's own business: the batch answers 200 with each
 * operation's errors.
 *
 * @internal
 */
export function clerkErrorFormatter(inner: Formatter = mercurius.defaultErrorFormatter as Formatter): Formatter {
  return function formatClerkErrors(execution, context) {
    const result = exposeClerkErrors(dedupeDenialErrors(execution));
    const errors = result.errors ?? [];
    let answer: HttpAnswer | undefined;
    let rejected = false;
    const kept: GraphQLError[] = [];
    for (const error of errors) {
      const http = httpAnswerOf(error);
      if (http === undefined) {
        kept.push(error);
        continue;
      }
      if (isRejection(error)) {
        // Every root field of a rejected operation raises the same rejection: it is answered once, and its status wins.
        if (!rejected) {
          kept.unshift(withoutHttp(error, true));
          answer = http;
          rejected = true;
        }
        continue;
      }
      if (!rejected) answer ??= http;
      kept.push(withoutHttp(error, false));
    }
    if (answer === undefined) return inner(result, context);
    const formatted = inner(rejected ? { errors: kept } : { ...result, errors: kept }, context);
    const { reply, operationsCount } = (typeof context === 'object' && context !== null ? context : {}) as FormatterContext;
    if (typeof operationsCount === 'number' && operationsCount > 1) return rejected ? { ...formatted, response: withoutData(formatted.response) } : formatted;
    if (reply !== undefined && typeof reply.header === 'function') {
      for (const [name, value] of Object.entries(answer.headers)) (reply.header as (name: string, value: string) => unknown).call(reply, name, value);
    }
    return { statusCode: answer.status, response: rejected ? withoutData(formatted.response) : formatted.response };
  };
}

/** A rejected operation never ran: its answer has no `data`, not even `null`. */
function withoutData(response: ExecutionResult | FormattedExecutionResult): ExecutionResult | FormattedExecutionResult {
  const { data: _data, ...rest } = response;
  return rest;
}
