import type { GraphQLError } from 'graphql';
import type { ClerkGraphQLErrorExtensions } from '../graphql/errors.js';

export { withoutHttp } from '../graphql/http-extension.js';

/** The HTTP answer an error asks for in `extensions.http` (the GraphQL Yoga / Apollo convention). @internal */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Every code a denial of this package carries (checked against the union, so a new one is not forgotten). */
const DENIAL_CODES: Readonly<Record<ClerkGraphQLErrorExtensions['code'], true>> = {
  UNAUTHENTICATED: true,
  INVALID_REQUEST: true,
  FORBIDDEN: true,
  PAYMENT_REQUIRED: true,
  CLERK_API_UNAVAILABLE: true,
};

/** The `extensions.http` of an error, when it is a well-formed one. @internal */
export function httpAnswerOf(error: GraphQLError): HttpAnswer | undefined {
  const http = (error.extensions as { http?: unknown } | undefined)?.http;
  if (typeof http !== 'object' || http === null) return undefined;
  const { status, headers } = http as { status?: unknown; headers?: unknown };
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const answer: Record<string, string> = {};
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') answer[name] = value;
  }
  return { status, headers: answer };
}

/**
 * Whether an error is this package's rejection of a whole operation: a denial code with
 * `extensions.http` (only `clerkDirectiveTransformer`'s rejection carries both; a denied field's
 * error has no `http`).
 *
 * @internal
 */
export function isRejection(error: GraphQLError): boolean {
  const code = (error.extensions as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(DENIAL_CODES, code) && httpAnswerOf(error) !== undefined;
}
