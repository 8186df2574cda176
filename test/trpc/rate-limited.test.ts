/**
 * Clerk's rate limit seen through a tRPC API-key procedure over loopback HTTP: a 429 from the
 * Backend API answers 503 with Clerk's own `Retry-After` (never 401, never 200), and a key answered
 * from the store keeps working meanwhile.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initTRPC } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { clerkProcedures, clerkResponseMeta, createClerkContext, type ClerkContext, type ClerkMeta } from 'clerk-api-auth/trpc';

let issuer: TestIssuer;
let api: FakeClerkApi;
let server: Server;
let url: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
  const clerkAuth = createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl });
  const t = initTRPC.context<ClerkContext>().meta<ClerkMeta>().create({ isDev: false });
  const { machineProcedure, authorize } = clerkProcedures(t);
  const router = t.router({ ping: machineProcedure.use(authorize({ token: 'api_key' })).query(({ ctx }) => ctx.auth.subject) });
  server = createServer(createHTTPHandler({ router, createContext: createClerkContext(clerkAuth), responseMeta: clerkResponseMeta }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
});

const ping = async (token: string) => {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { error?: { data?: { code?: string } }; result?: { data?: string } } };
};

describe('a 429 from the Backend API', () => {
  it('is a 503 with Clerk’s Retry-After; a stored key keeps working; afterwards keys verify again', async () => {
    const known = issuer.apiKey({ subject: 'user_known' });
    expect((await ping(known.token)).status).toBe(200);
    api.setFault({ mode: 'rate-limited', retryAfterSeconds: 2, routes: ['api_keys.verify'] });
    const fresh = issuer.apiKey({ subject: 'user_fresh' });
    const limited = await ping(fresh.token);
    expect([limited.status, limited.retryAfter, limited.body.error?.data?.code]).toEqual([503, '2', 'SERVICE_UNAVAILABLE']);
    expect(await ping(known.token)).toMatchObject({ status: 200, body: { result: { data: 'user_known' } } });
    expect(api.count('api_keys.verify')).toBe(2);
    api.setFault({ mode: 'none' });
    await new Promise((resolve) => setTimeout(resolve, 2050));
    expect(await ping(fresh.token)).toMatchObject({ status: 200, body: { result: { data: 'user_fresh' } } });
  });
});
