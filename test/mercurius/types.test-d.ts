/** Public types of clerk-api-auth/mercurius, checked by `vitest --typecheck` (no runtime). */
import Fastify, { type FastifyRequest } from 'fastify';
import mercurius, { type MercuriusOptions } from 'mercurius';
import { describe, expectTypeOf, it } from 'vitest';
import type { ClerkAuth } from 'clerk-api-auth';
import type { ClerkGraphQLContext } from 'clerk-api-auth/graphql';
import { clerkMercurius, type ClerkMercurius, type MercuriusClerkContext, type MercuriusRequestLike } from 'clerk-api-auth/mercurius';

declare const clerkAuth: ClerkAuth;

describe('clerk-api-auth/mercurius types', () => {
  it('takes nothing, a ClerkAuth, or options; a misspelled option does not compile', () => {
    expectTypeOf(clerkMercurius()).toEqualTypeOf<ClerkMercurius>();
    expectTypeOf(clerkMercurius(clerkAuth)).toEqualTypeOf<ClerkMercurius>();
    expectTypeOf(clerkMercurius({ clerkAuth, rejectUnauthorized: true })).toEqualTypeOf<ClerkMercurius>();
    // @ts-expect-error: not an option
    clerkMercurius({ rejectUnauthorised: true });
  });

  it('its pieces are Mercurius options', async () => {
    const clerk = clerkMercurius(clerkAuth);
    expectTypeOf(clerk.options).toMatchTypeOf<Partial<MercuriusOptions>>();
    expectTypeOf(clerk.subscription()).toMatchTypeOf<NonNullable<Exclude<MercuriusOptions['subscription'], boolean>>>();
    expectTypeOf(clerk.subscription({ keepAlive: 10_000 })).toHaveProperty('keepAlive').toEqualTypeOf<number>();
    const app = Fastify();
    await app.register(mercurius, { schema: 'type Query { a: String }', ...clerk.options, subscription: clerk.subscription() });
  });

  it('the context holds Clerk’s fields and yours', () => {
    const clerk = clerkMercurius(clerkAuth);
    const context = clerk.context((request: FastifyRequest, _reply, { auth }) => ({ ip: request.ip, user: auth.userId }));
    expectTypeOf(context).toEqualTypeOf<MercuriusClerkContext<{ ip: string; user: string | null }>>();
    expectTypeOf<Awaited<ReturnType<typeof context>>>().toMatchTypeOf<ClerkGraphQLContext & { ip: string }>();
    expectTypeOf<FastifyRequest>().toMatchTypeOf<MercuriusRequestLike>();
  });
});
