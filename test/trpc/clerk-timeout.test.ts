import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkProcedures, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

let issuer: TestIssuer;
let api: FakeClerkApi;
beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_1', email: 'ada@example.com' }] });
});
afterAll(() => api.close());

it('a ctx.clerk call that times out answers 503 SERVICE_UNAVAILABLE, not a hang or a 500', async () => {
  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create();
  const { protectedProcedure } = clerkProcedures(t);
  const router = t.router({
    me: protectedProcedure.query(async ({ ctx }) => (await ctx.clerk.users.getUser(ctx.auth.userId)).id),
  });
  const createContext = createClerkContext({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 300 });
  const token = await issuer.sessionToken({ userId: 'user_1' });
  const call = () =>
    fetchRequestHandler({ endpoint: '/trpc', router, createContext, req: new Request('http://localhost/trpc/me', { headers: { authorization: `Bearer ${token}` } }) });
  expect((await call()).status).toBe(200); // also warms the JWKS
  api.setFault({ mode: 'none', delayMs: 3000 });
  try {
    const response = await call();
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('SERVICE_UNAVAILABLE');
  } finally {
    api.setFault({ mode: 'none' });
  }
});
