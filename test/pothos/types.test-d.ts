/** The `clerk` option of clerk-api-auth/pothos is typed: checked by `vitest --typecheck` (no runtime). */
import SchemaBuilder from '@pothos/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { AuthRequirement } from 'clerk-api-auth';
import type { ClerkGraphQLContext, ClerkRuleExtension } from 'clerk-api-auth/graphql';
import { clerkPothosPlugin } from 'clerk-api-auth/pothos';

const builder = new SchemaBuilder<{ Context: ClerkGraphQLContext }>({ plugins: [clerkPothosPlugin] });

describe('clerk-api-auth/pothos types', () => {
  it('the option takes true or an AuthRequirement, on fields, object types, interfaces and root types', () => {
    expectTypeOf<ClerkRuleExtension>().toEqualTypeOf<true | AuthRequirement>();
    expectTypeOf(clerkPothosPlugin).toEqualTypeOf<'clerk'>();

    const Named = builder.interfaceRef<{ name: string }>('Named').implement({ clerk: { permission: 'org:names:read' }, fields: (t) => ({ name: t.exposeString('name') }) });
    builder.objectRef<{ name: string }>('Pet').implement({ interfaces: [Named], clerk: true, fields: (t) => ({ legs: t.int({ clerk: { role: ['org:admin'] }, resolve: () => 4 }) }) });
    builder.queryType({
      clerk: true,
      fields: (t) => ({
        a: t.string({ clerk: { role: 'org:admin', token: 'session_token', reverification: 'strict' }, resolve: () => 'a' }),
        b: t.string({ clerk: { token: ['m2m_token', 'api_key'], scope: 'read' }, resolve: () => 'b' }),
        // The resolver's context is the builder's: Clerk's auth object.
        c: t.string({ clerk: true, nullable: true, resolve: (_root, _args, ctx) => ctx.auth.userId }),
      }),
    });
  });

  it('a misspelled key or a wrong value type does not compile', () => {
    builder.queryField('misspelled', (t) =>
      // @ts-expect-error: `rol` is not a requirement key
      t.string({ clerk: { rol: 'org:admin' }, resolve: () => 'x' }),
    );
    builder.queryField('wrongValue', (t) =>
      // @ts-expect-error: a role is a string or a list of strings
      t.string({ clerk: { role: 42 }, resolve: () => 'x' }),
    );
    builder.queryField('notARule', (t) =>
      // @ts-expect-error: a rule is `true` or an AuthRequirement, not a string
      t.string({ clerk: 'signed-in', resolve: () => 'x' }),
    );
    builder.queryField('falseRule', (t) =>
      // @ts-expect-error: `false` is not a rule (leave the option out instead)
      t.string({ clerk: false, resolve: () => 'x' }),
    );
    builder.queryField('unknownKind', (t) =>
      // @ts-expect-error: unknown token kind
      t.string({ clerk: { token: 'cookie' }, resolve: () => 'x' }),
    );
    // @ts-expect-error: on object types too
    builder.objectRef<object>('Bad').implement({ clerk: { permissions: 'org:x' }, fields: (t) => ({ a: t.string({ resolve: () => 'a' }) }) });
    // @ts-expect-error: and on interfaces
    builder.interfaceRef<object>('BadIface').implement({ clerk: 1, fields: (t) => ({ a: t.string({ resolve: () => 'a' }) }) });
  });
});
