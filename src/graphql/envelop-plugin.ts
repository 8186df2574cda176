import type { ExecutionArgs, ExecutionResult, GraphQLSchema } from 'graphql';
import type { ClerkGraphQLContext } from './context.js';

/**
 * The plugin `useClerk` returns: the four envelop hooks it uses, typed structurally, so that
 * `clerk-api-auth/graphql`'s declarations never import `graphql-yoga` or `@envelop/*` (an app on
 * Apollo Server or graphql-http compiles without them). It is assignable to GraphQL Yoga's
 * `Plugin<ClerkGraphQLContext>` and to envelop's `Plugin`, so it goes in `createYoga({ plugins })` or
 * `envelop({ plugins })` as any plugin does. The hooks are Yoga's to call, not yours.
 *
 * @example
 * ```ts
 * import { createYoga, type Plugin } from 'graphql-yoga';
 * import { useClerk, type ClerkEnvelopPlugin, type ClerkGraphQLContext } from 'clerk-api-auth/graphql';
 *
 * const clerk: ClerkEnvelopPlugin = useClerk();
 * const asYogaPlugin: Plugin<ClerkGraphQLContext> = clerk;
 * const yoga = createYoga({ schema, plugins: [clerk] });
 * ```
 */
export interface ClerkEnvelopPlugin {
  /** Compiles the schema's rules when the server loads it (a malformed rule fails there). */
  onSchemaChange(payload: { schema: GraphQLSchema }): void;
  /** Authenticates the request and adds `auth`, `clerk` and `signedOutReason` to the context. */
  onContextBuilding(payload: EnvelopContextPayload): void | Promise<void>;
  /** Decides the operation before it runs (rejects it, or runs it on the guarded twin of the schema). */
  onExecute(payload: EnvelopExecutePayload): EnvelopExecuteHookResult | Promise<EnvelopExecuteHookResult>;
  /** Decides a subscription before `subscribe` runs, and ends its stream when the token expires. */
  onSubscribe(payload: EnvelopSubscribePayload): EnvelopSubscribeHookResult | undefined | Promise<EnvelopSubscribeHookResult | undefined>;
}

/** What envelop hands `onContextBuilding` (the part `useClerk` reads). @internal */
export interface EnvelopContextPayload {
  readonly context: object;
  extendContext(fields: Partial<ClerkGraphQLContext>): void;
}

/** The execution arguments envelop hands the hooks (its own, loosely typed `ExecutionArgs`). @internal */
export type EnvelopExecutionArgs = Omit<ExecutionArgs, 'contextValue'> & { contextValue?: unknown };

/** What envelop hands `onExecute` (the part `useClerk` reads). @internal */
export interface EnvelopExecutePayload {
  readonly args: EnvelopExecutionArgs;
  readonly executeFn: (args: EnvelopExecutionArgs) => unknown;
  setExecuteFn(execute: (args: EnvelopExecutionArgs) => unknown): void;
  setResultAndStopExecution(result: ExecutionResult): void;
}

/** What `useClerk`'s `onExecute` returns: the hook that exposes this package's errors. @internal */
export interface EnvelopExecuteHookResult {
  onExecuteDone(payload: { readonly result: unknown; setResult(result: ExecutionResult): void }): void;
}

/** What envelop hands `onSubscribe` (the part `useClerk` reads). @internal */
export interface EnvelopSubscribePayload {
  readonly args: EnvelopExecutionArgs;
  setResultAndStopExecution(result: ExecutionResult): void;
}

/** What `useClerk`'s `onSubscribe` returns: the hook that ends the stream at expiry. @internal */
export interface EnvelopSubscribeHookResult {
  onSubscribeResult(payload: { readonly result: unknown; setResult(result: AsyncIterableIterator<ExecutionResult>): void }): void;
}
