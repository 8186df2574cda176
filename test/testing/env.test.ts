/**
 * issuer.env(): the environment of a server under test. The reference tRPC server, configured from
 * nothing but `issuer.env(...)` (plus PATH), verifies the issuer's tokens over loopback HTTP; with the
 * Backend API stand-in it calls the stand-in, without it it makes no Backend API call at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { envFor } from '../support/env.js';
import { errorCode, get, startExample } from '../trpc/helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_ada', email: 'ada@example.com' }] });
});

afterAll(async () => {
  await api?.close();
});

describe('issuer.env()', () => {
  it('without the stand-in: networkless, with no secret key', () => {
    expect(issuer.env()).toEqual({
      CLERK_JWT_KEY: issuer.jwtKey,
      CLERK_PUBLISHABLE_KEY: issuer.publishableKey,
      CLERK_WEBHOOK_SIGNING_SECRET: issuer.webhookSigningSecret,
      CLERK_TELEMETRY_DISABLED: '1',
    });
    expect(issuer.jwtKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('with the stand-in: its secret key and CLERK_API_URL too', () => {
    expect(issuer.env(api)).toEqual({ ...issuer.env(), CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl });
    expect(api.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('is what the suites’ envFor builds on', () => {
    expect(envFor(issuer)).toEqual({ PATH: process.env.PATH, ...issuer.env(), CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000' });
  });

  it('configures a server that verifies the tokens and calls the stand-in for users and opaque tokens', async () => {
    const server = await startExample({ PATH: process.env.PATH, ...issuer.env(api) });
    try {
      api.resetCounts();
      const token = await issuer.sessionToken({ userId: 'user_ada' });
      const me = await get(server.url, 'me', { token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ result: { data: { id: 'user_ada', email: 'ada@example.com' } } });
      expect(api.count('users.get')).toBe(1);
      expect(api.lastRequest('users.get')?.authorized).toBe(true);
      const key = issuer.apiKey({ subject: 'user_ada' });
      const ping = await get(server.url, 'keys.ping', { token: key.token });
      expect(ping.status).toBe(200);
      expect(ping.body).toMatchObject({ result: { data: { subject: 'user_ada' } } });
      expect(api.count('api_keys.verify')).toBe(1);
      expect((await get(server.url, 'me')).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('without the stand-in, the server verifies networklessly and never calls a Backend API', async () => {
    const server = await startExample({ PATH: process.env.PATH, ...issuer.env() });
    try {
      api.resetCounts();
      const token = await issuer.sessionToken({ userId: 'user_ada' });
      const whoami = await get(server.url, 'whoami', { token });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ result: { data: { userId: 'user_ada' } } });
      // ctx.clerk needs a secret key: the reference app answers NOT_IMPLEMENTED, naming CLERK_SECRET_KEY.
      const me = await get(server.url, 'me', { token });
      expect(me.status).toBe(501);
      expect(errorCode(me.body)).toBe('NOT_IMPLEMENTED');
      expect(api.requestCount).toBe(0);
    } finally {
      await server.close();
    }
  });
});
