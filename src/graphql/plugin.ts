import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import {
  ClerkAuthConfigError,
  resolveClerkAuth,
  SignedOutReason,
  untilExpiry,
  type AuthenticateInput,
  type AuthenticateResult,
  type ClerkAuth,
  type ClerkAuthOptions,
  type RequestAuth,
} from '../core/internal.js';
import { contextFields, requestAuthOf, stateOf, type ClerkGraphQLContext, type ClerkState } from './context.js';
import { dedupeDenialErrors, expiredError, exposeClerkErrors, rejectionErrors } from './errors.js';
import type { ClerkEnvelopPlugin, EnvelopExecuteHookResult, EnvelopSubscribeHookResult } from './envelop-plugin.js';
import { decideOperation, fragmentsOf, type Decided } from './execution.js';
import { guardedTwin } from './guard.js';
import { answersOverHttp, withoutHttp } from './http-extension.js';
import { compileRules } from './rules.js';

/**
 * Options of `useClerk`: every `createClerkAuth` option (environment fallbacks apply), or an existing
 * `clerkAuth`, plus how the directives answer.
 *
 * @example
 * ```ts
 * useClerk({ authorizedParties: ['https://app.example.com'], rejectUnauthorized: true });
 * useClerk({ clerkAuth, rejectUnauthorized: true });
 * ```
 */
export interface UseClerkOptions extends ClerkAuthOptions {
  /** An existing authenticator from `createClerkAuth` (share one between tRPC and GraphQL). Exclusive with Clerk options. */
  clerkAuth?: ClerkAuth;
  /**
   * Reject a whole query that selects any denied field (HTTP 401 / 403, no resolver runs) instead of
   * answering the allowed fields with each denied one null (HTTP 200). A field reached through an
   * interface or union counts as denied when any type it can resolve on is. Default `false`.
   * Mutations and subscriptions are always rejected whole.
   */
  rejectUnauthorized?: boolean;
  /**
   * Where the credential is, when it is not where `useClerk` looks (`Authorization: Bearer`, a
   * same-origin `__session` cookie, or graphql-ws `connectionParams.authorization` / `.token`).
   * Return a `Request`, a Node request, a token string, or `null` for "no credential".
   */
  getCredential?: (context: Readonly<Record<string, unknown>>) => AuthenticateInput;
}

const PLUGIN_KEYS = ['rejectUnauthorized', 'getCredential'] as const;

/**
 * The GraphQL Yoga plugin. Authenticates each request once (HTTP, SSE, and graphql-ws
 * `connectionParams`; batched operations share it), puts `auth`, `clerk` and `signedOutReason` on
 * the context, and enforces `@auth`, `@hasRole` and `@hasPermission` (and `extensions.clerk` rules)
 * before execution, once per field node of the operation. A bad token never fails a request by
 * itself; the rules decide:
 *
 * - Queries run what is allowed; each denied field is null with one error at its path
 *   (`UNAUTHENTICATED` or `FORBIDDEN`), with null propagation through non-null types, HTTP 200.
 *   A denied field inside a list yields one error, not one per item.
 *   With `rejectUnauthorized: true` they are rejected whole instead.
 * - Mutations and subscriptions that select anything denied are rejected whole: no resolver and no
 *   `subscribe` runs. HTTP 401 (`UNAUTHENTICATED`, `WWW-Authenticate: Bearer`) when nobody is signed
 *   in, 403 (`FORBIDDEN`, `WWW-Authenticate: Bearer error="insufficient_scope"`) when a role or
 *   permission is missing; one error per denied field node, located at it.
 * - A presented token that failed verification (expired, bad signature, wrong kind, several
 *   credentials...) is never treated as anonymous: an operation that selects any guarded field is
 *   rejected whole with 401 and `WWW-Authenticate: Bearer error="invalid_token"`, so clients refresh
 *   and retry. Clerk unreachable while verifying: 503 with `Retry-After`.
 * - A field reached through an interface or union is decided for every object type it can resolve
 *   on. In a query, when only some of those types are denied, the field node is settled at
 *   resolution by its runtime type. A mutation, a subscription, or a query under
 *   `rejectUnauthorized` is rejected whole as soon as any possible type is denied, since its
 *   resolvers must not run first.
 * - A subscription that selects a guarded field ends with an `UNAUTHENTICATED` error
 *   (`reason: 'token-expired'`) when the caller's token expires (a JWT's `exp` plus the clock skew,
 *   or an opaque machine token's expiration).
 * - `__typename` and introspection (`__schema`, `__type`) are never guarded: they describe the
 *   schema, not your data (so `node(id:) { __typename }` reveals a type name to anyone).
 * - Errors of this package thrown by your resolvers (e.g. `ClerkSecretKeyRequiredError` from
 *   `ctx.clerk` when only `CLERK_JWT_KEY` is set) reach the client with their code and message
 *   instead of Yoga's masked "Unexpected error.".
 *
 * Callers allowed everything they select execute on your schema untouched (no per-field cost); only
 * queries with denied fields execute on a guarded copy of it.
 *
 * @param options - Options, a `ClerkAuth` from `createClerkAuth`, or nothing (configuration from the
 *   environment: `CLERK_SECRET_KEY` and/or `CLERK_JWT_KEY`, ...). Invalid configuration throws here,
 *   and a malformed rule or a foreign `@auth` definition throws when Yoga loads the schema.
 *
 * @example
 * ```ts
 * import { createSchema, createYoga } from 'graphql-yoga';
 * import { clerkDirectiveTypeDefs, useClerk, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const yoga = createYoga({
 *   schema: createSchema<ClerkGraphQLContext>({
 *     typeDefs: [clerkDirectiveTypeDefs, 'type Query { me: String @auth }'],
 *     resolvers: { Query: { me: (_, __, ctx) => (ctx.auth.tokenType === 'session_token' ? ctx.auth.userId : null) } },
 *   }),
 *   plugins: [useClerk()],
 * });
 * ```
 *
 * @see clerkDirectiveTypeDefs for the exact directive semantics.
 */
export function useClerk(options?: UseClerkOptions | ClerkAuth): ClerkEnvelopPlugin {
  const { clerkAuth, own } = resolveClerkAuth<PluginOwnOptions>(options, PLUGIN_KEYS, 'useClerk');
  const rejectUnauthorized = own.rejectUnauthorized === true;
  const getCredential = own.getCredential;
  if (getCredential !== undefined && typeof getCredential !== 'function') {
    throw new ClerkAuthConfigError('useClerk: `getCredential` must be a function (context) => Request | token | null.');
  }
  /** Batched operations of one HTTP request share one credential (and so at most one verification). */
  const perRequest = new WeakMap<object, RequestAuth>();

  const requestFor = (context: Readonly<Record<string, unknown>>): RequestAuth => {
    if (getCredential !== undefined) return requestAuthOf(clerkAuth, getCredential(context));
    const request = context.request;
    if (typeof request === 'object' && request !== null && !('connectionParams' in context)) {
      let shared = perRequest.get(request);
      if (shared === undefined) perRequest.set(request, (shared = requestAuthOf(clerkAuth, request)));
      return shared;
    }
    return requestAuthOf(clerkAuth, context);
  };

  const stateFor = (context: object): ClerkState => {
    const state = stateOf(context);
    if (state !== undefined && state.clerkAuth === clerkAuth) return state;
    // The context was not built through this plugin (a custom pipeline): read its credential now.
    return { request: requestFor(context as Readonly<Record<string, unknown>>), clerkAuth };
  };

  /** Decides an operation before it runs; `undefined` when no rule can apply to it. */
  const decide = (args: OperationArgs): Decided | undefined | Promise<Decided> => {
    const rules = compileRules(args.schema);
    if (!rules.any) return undefined;
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return undefined;
    const context = args.contextValue as object;
    const state = stateFor(context);
    signOutIfExpired(context, state);
    return decideOperation({
      rules,
      operation,
      fragments: fragmentsOf(args.document),
      variables: args.variableValues as Readonly<Record<string, unknown>> | null | undefined,
      rejectUnauthorized,
      state,
    });
  };

  return {
    onSchemaChange({ schema }) {
      // Fail fast on a malformed rule or a foreign @auth definition, before the first request.
      compileRules(schema);
    },

    onContextBuilding({ context, extendContext }) {
      if (stateOf(context)?.clerkAuth === clerkAuth) return;
      const request = requestFor(context as unknown as Readonly<Record<string, unknown>>);
      const extend = (session: AuthenticateResult) => extendContext(contextFields(clerkAuth, request, session) as Partial<ClerkGraphQLContext>);
      // A token already verified (nearly every request) settles without a promise: no extra tick.
      const settled = request.session();
      return settled instanceof Promise ? settled.then(extend) : extend(settled);
    },

    onExecute({ args, setResultAndStopExecution, setExecuteFn, executeFn }) {
      const apply = (decided: Decided | undefined): typeof EXPOSE_CLERK_ERRORS => {
        if (decided?.decision === 'reject') {
          setResultAndStopExecution({ errors: rejectionErrorsFor(decided, args.contextValue) });
        } else if (decided?.decision === 'partial') {
          // The twin decides each execution on its own (never through this context object alone).
          const twin = guardedTwin(args.schema, compileRules(args.schema));
          setExecuteFn((twinArgs) => {
            const executed: unknown = executeFn({ ...twinArgs, schema: twin });
            return executed instanceof Promise ? executed.then(dedupeResult) : dedupeResult(executed);
          });
        }
        return EXPOSE_CLERK_ERRORS;
      };
      const decided = decide(args);
      return decided instanceof Promise ? decided.then(apply) : apply(decided);
    },

    onSubscribe({ args, setResultAndStopExecution }) {
      const apply = (decided: Decided | undefined) => {
        if (decided === undefined) return undefined;
        if (decided.decision !== 'run') {
          setResultAndStopExecution({ errors: rejectionErrorsFor(decided, args.contextValue) });
          return undefined;
        }
        const expiresAt = decided.expiresAt;
        if (expiresAt === undefined) return undefined;
        return {
          onSubscribeResult({ result, setResult }: { result: unknown; setResult: (result: AsyncIterableIterator<ExecutionResult>) => void }) {
            if (isAsyncIterable(result)) setResult(untilExpiry(result as AsyncIterable<ExecutionResult>, expiresAt, () => ({ errors: [expiredError()] })));
          },
        };
      };
      const decided = decide(args);
      return decided instanceof Promise ? decided.then(apply) : apply(decided);
    },
  };
}

type PluginOwnOptions = Pick<UseClerkOptions, (typeof PLUGIN_KEYS)[number]>;

/** A rejection's errors; outside Yoga's HTTP answer (graphql-ws) nothing reads `extensions.http`, so it is left out. */
function rejectionErrorsFor(decided: Decided, context: unknown) {
  const errors = rejectionErrors(decided.plan);
  return answersOverHttp(context) ? errors : errors.map((error) => withoutHttp(error));
}

/**
 * A context that lives as long as a connection (graphql-ws servers that hand every operation the
 * connection's object) keeps the `auth` it was built with; once that credential expires, resolvers
 * reading `ctx.auth` see the caller signed out too (the rules already do, per operation).
 */
function signOutIfExpired(context: object, state: ClerkState): void {
  const fields = context as Partial<ClerkGraphQLContext>;
  if (fields.auth?.isAuthenticated !== true || stateOf(context) !== state) return;
  const session = state.request.session();
  if (!(session instanceof Promise) && session.reason === SignedOutReason.TokenExpired) {
    fields.auth = session.auth as ClerkGraphQLContext['auth'];
    fields.signedOutReason = session.reason;
  }
}

interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null | undefined;
  variableValues?: unknown;
  contextValue?: unknown;
}


/** Stateless: shows this package's own errors thrown by resolvers with their code instead of a masked message. */
const EXPOSE_CLERK_ERRORS = {
  onExecuteDone({ result, setResult }: { result: unknown; setResult: (result: ExecutionResult) => void }): void {
    if (isExecutionResult(result) && result.errors !== undefined) setResult(exposeClerkErrors(result));
  },
};

function dedupeResult(result: unknown): never {
  return (isExecutionResult(result) ? dedupeDenialErrors(result) : result) as never;
}

function isExecutionResult(value: unknown): value is ExecutionResult {
  return typeof value === 'object' && value !== null && !isAsyncIterable(value);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

