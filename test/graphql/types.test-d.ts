/** Public types of clerk-api-auth/graphql, checked by `vitest --typecheck` (no runtime). */
import { describe, expectTypeOf, it } from 'vitest';
import { GraphQLObjectType, GraphQLString, type GraphQLSchema } from 'graphql';
import type { Plugin as EnvelopPlugin } from '@envelop/core';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import type { ClerkAuthObject, ClerkClient, MissingEntitlements, ReverificationHint, SignedInAuthObject, SignedOutAuthObject, SignedOutReason } from 'clerk-api-auth';
import {
  clerkDirectiveTransformer,
  createClerkGraphQLContext,
  useClerk,
  type ClerkEnvelopPlugin,
  type ClerkGraphQLContext,
  type ClerkGraphQLErrorExtensions,
  type ClerkRuleExtension,
} from 'clerk-api-auth/graphql';

describe('clerk-api-auth/graphql types', () => {
  it('useClerk is a Yoga plugin that adds ClerkGraphQLContext', () => {
    // Typed structurally (the /graphql entry's declarations never import graphql-yoga), and assignable
    // to Yoga's and envelop's plugin types.
    expectTypeOf(useClerk).returns.toEqualTypeOf<ClerkEnvelopPlugin>();
    const asYoga: Plugin<ClerkGraphQLContext> = useClerk();
    const asEnvelop: EnvelopPlugin<ClerkGraphQLContext> = useClerk();
    const asAnyEnvelop: EnvelopPlugin<Record<string, unknown>> = useClerk();
    expectTypeOf([asYoga, asEnvelop, asAnyEnvelop]).toBeArray();
    createYoga({ schema: createSchema<ClerkGraphQLContext>({ typeDefs: 'type Query { a: String }' }), plugins: [useClerk()] });
    expectTypeOf<ClerkGraphQLContext['auth']>().toEqualTypeOf<SignedInAuthObject | SignedOutAuthObject>();
    expectTypeOf<ClerkGraphQLContext['clerk']>().toEqualTypeOf<ClerkClient>();
    expectTypeOf<ClerkGraphQLContext['signedOutReason']>().toEqualTypeOf<SignedOutReason | null>();
  });

  it('createClerkGraphQLContext builds the same context for other servers', () => {
    expectTypeOf(createClerkGraphQLContext).returns.toEqualTypeOf<(source: unknown) => Promise<ClerkGraphQLContext>>();
    expectTypeOf(clerkDirectiveTransformer).returns.toEqualTypeOf<GraphQLSchema>();
  });

  it('extensions.clerk is typed on code-first fields and types', () => {
    new GraphQLObjectType({
      name: 'Query',
      extensions: { clerk: true },
      fields: {
        a: { type: GraphQLString, extensions: { clerk: { role: ['org:admin', 'org:owner'], token: 'session_token' } } },
        // @ts-expect-error: a rule is `true` or an AuthRequirement
        b: { type: GraphQLString, extensions: { clerk: 42 } },
        // @ts-expect-error: unknown token kind
        c: { type: GraphQLString, extensions: { clerk: { token: 'cookie' } } },
      },
    });
    expectTypeOf<true>().toMatchTypeOf<ClerkRuleExtension>();
  });

  it('extensions.clerk takes every requirement: features, plans, reverification, an active organization', () => {
    const rules: ClerkRuleExtension[] = [
      { feature: 'reports' },
      { plan: ['pro', 'team'] },
      { reverification: 'strict' },
      { reverification: { level: 'multi_factor', afterMinutes: 5 } },
      { organization: true, role: 'org:admin' },
      { token: 'api_key', organization: true },
    ];
    void rules;
    // @ts-expect-error: `organization` is `true` or absent
    const personal: ClerkRuleExtension = { organization: false };
    // @ts-expect-error: not a Clerk reverification preset
    const sometimes: ClerkRuleExtension = { reverification: 'sometimes' };
    void personal;
    void sometimes;
  });

  it('error extensions carry the new code, the hint and what is missing', () => {
    expectTypeOf<'PAYMENT_REQUIRED'>().toExtend<ClerkGraphQLErrorExtensions['code']>();
    expectTypeOf<ClerkGraphQLErrorExtensions['clerk_error']>().toEqualTypeOf<ReverificationHint['clerk_error'] | undefined>();
    expectTypeOf<ClerkGraphQLErrorExtensions['missing']>().toEqualTypeOf<MissingEntitlements | undefined>();
  });
});
