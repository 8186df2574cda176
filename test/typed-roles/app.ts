/**
 * Typed roles and permissions, checked by the compiler: with `ClerkAuthorization` declared
 * (authorization.d.ts), a mistyped role or permission is a compile error wherever a requirement is
 * written, and `ctx.auth.orgRole` / `orgPermissions` have the app's types.
 */
import { initTRPC } from '@trpc/server';
import { GraphQLObjectType, GraphQLString } from 'graphql';
import { expectTypeOf } from 'vitest';
import { checkRequirement, validateRequirement, type AuthRequirement, type AuthenticateResult, type OrganizationPermission, type OrganizationRole } from 'clerk-api-auth';
import type { ClerkRuleExtension } from 'clerk-api-auth/graphql';
import { clerkProcedures, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

expectTypeOf<OrganizationRole>().toEqualTypeOf<'org:admin' | 'org:member'>();
expectTypeOf<OrganizationPermission>().toEqualTypeOf<'org:notes:create' | 'org:notes:read'>();

const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
const { protectedProcedure, authorize } = clerkProcedures(t);

// Declared roles and permissions compile, alone or as lists.
authorize({ role: 'org:admin' });
authorize({ role: ['org:admin', 'org:member'], permission: 'org:notes:create' });
protectedProcedure.meta({ auth: { permission: ['org:notes:read', 'org:notes:create'] } });

// @ts-expect-error 'org:admni' is not a declared role
authorize({ role: 'org:admni' });
// @ts-expect-error nor is an undeclared role in a list
authorize({ role: ['org:admin', 'org:owner'] });
// @ts-expect-error 'org:notes:delete' is not a declared permission
authorize({ permission: 'org:notes:delete' });
// @ts-expect-error .meta({ auth }) checks them too
protectedProcedure.meta({ auth: { role: 'org:admni' } });
// @ts-expect-error and so does the AuthRequirement type itself
const wrong: AuthRequirement = { role: 'admin' };
void wrong;

protectedProcedure.query(({ ctx }) => {
  expectTypeOf(ctx.auth.orgRole).toEqualTypeOf<'org:admin' | 'org:member' | undefined>();
  expectTypeOf(ctx.auth.orgPermissions).toEqualTypeOf<Array<'org:notes:create' | 'org:notes:read'> | undefined>();
  return null;
});

export function check(result: AuthenticateResult) {
  checkRequirement(result, { role: 'org:member' });
  // @ts-expect-error the core's own check is typed the same way
  checkRequirement(result, { role: 'org:membr' });
  // Values read at run time (SDL, configuration) are checked by the validator instead, which takes unknown.
  return validateRequirement(JSON.parse('{"role":"org:member"}') as unknown, 'config');
}

// GraphQL rules written in code are typed too (extensions.clerk is an AuthRequirement).
export const adminRule: ClerkRuleExtension = { role: 'org:admin' };
export const Query = new GraphQLObjectType({
  name: 'Query',
  fields: {
    stats: { type: GraphQLString, extensions: { clerk: { role: 'org:admin' } } },
    // @ts-expect-error an undeclared role in extensions.clerk
    typo: { type: GraphQLString, extensions: { clerk: { role: 'org:admni' } } },
  },
});
