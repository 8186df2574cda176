/**
 * The reference tRPC server in each configuration mode (see the README's "Configuration"), configured from env vars
 * only: CLERK_JWT_KEY alone (networkless), CLERK_SECRET_KEY alone (JWKS from the Backend API), no key
 * (dev issuer), and no key in production (refused).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { startTrpcServer } from '../../examples/trpc/server.js';
import { ALICE, errorCode, get, singleClient, startExample } from './helpers.js';

let issuer: TestIssuer;
let api: FakeClerkApi;
const running: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  api.setFault({ mode: 'none' });
  api.resetCounts();
});

afterAll(async () => {
  await api?.close();
});

async function start(env: NodeJS.ProcessEnv) {
  const server = await startExample({ PATH: process.env.PATH, CLERK_TELEMETRY_DISABLED: '1', ...env });
  running.push(server);
  return server;
}

describe('CLERK_JWT_KEY only (networkless)', () => {
  it('verifies tokens without ever calling the Backend API, and `me` says it needs CLERK_SECRET_KEY', async () => {
    // CLERK_API_URL points at the fake API so that any call, should one happen, is counted.
    const { url } = await start({ CLERK_JWT_KEY: issuer.jwtKey, CLERK_API_URL: api.apiUrl });
    const token = await issuer.sessionToken(ALICE);

    expect(await singleClient(url, token).whoami.query()).toMatchObject({ userId: 'user_alice' });
    expect(await singleClient(url, await issuer.m2mToken({ machineId: 'mch_1' })).machine.ping.query()).toEqual({ machineId: 'mch_1' });

    const me = await get(url, 'me', { token });
    expect(me.status).toBe(501);
    expect(errorCode(me.body)).toBe('NOT_IMPLEMENTED');
    const error = (me.body as { error: { message: string; data: Record<string, unknown> } }).error;
    expect(error.message).toContain('CLERK_SECRET_KEY');
    expect(error.data).not.toHaveProperty('stack');
    expect(JSON.stringify(me.body)).not.toMatch(/at .+\.ts:\d+/);

    // An opaque API key would need the Backend API: refused with 401, still without a call.
    const opaque = issuer.apiKey({ subject: 'user_alice' }).token;
    const refused = await get(url, 'machine.ping', { token: opaque });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('secret-key-required');

    expect(api.requestCount).toBe(0);
  });
});

describe('CLERK_SECRET_KEY only (JWKS from the Backend API)', () => {
  it('fetches the keys once and caches them, calls the API for `me`, and verifies opaque M2M tokens', async () => {
    const { url } = await start({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl });
    for (const userId of ['user_alice', 'user_a', 'user_b']) {
      expect(await singleClient(url, await issuer.sessionToken({ userId })).whoami.query()).toMatchObject({ userId });
    }
    expect(api.count('jwks')).toBe(1);

    expect(await singleClient(url, await issuer.sessionToken(ALICE)).me.query()).toEqual({ id: 'user_alice', email: 'alice@example.com' });
    expect(api.count('users.get')).toBe(1);

    const opaque = issuer.opaqueM2mToken({ machineId: 'mch_opaque' }).token;
    expect(await singleClient(url, opaque).machine.ping.query()).toEqual({ machineId: 'mch_opaque' });
    expect(api.count('m2m_tokens.verify')).toBe(1);
  });

  it('answers 503 with Retry-After, not 401, while the Backend API is down and no key is cached', async () => {
    api.setFault({ mode: 'down' });
    const { url } = await start({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl });
    const res = await get(url, 'whoami', { token: await issuer.sessionToken(ALICE) });
    expect(res.status).toBe(503);
    expect(errorCode(res.body)).toBe('SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await get(url, 'health')).status).toBe(200);
  });

  it('is 502 BAD_GATEWAY, not a 500, when the Backend API fails during `me`', async () => {
    const { url } = await start({ CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl });
    const token = await issuer.sessionToken(ALICE);
    expect((await get(url, 'whoami', { token })).status).toBe(200); // keys cached
    api.setFault({ mode: 'error' });
    const res = await get(url, 'me', { token });
    expect(res.status).toBe(502);
    expect(errorCode(res.body)).toBe('BAD_GATEWAY');
  });
});

describe('no Clerk key', () => {
  it('falls back to the offline dev issuer outside production, loudly', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const server = await start({});
    expect(warn.mock.calls.join('\n')).toContain('OFFLINE DEV ISSUER');
    warn.mockRestore();
    expect(server.clerk.dev).toBeDefined();
    const token = await server.clerk.dev!.issuer.sessionToken({ userId: 'user_alice' });
    expect(await singleClient(server.url, token).me.query()).toEqual({ id: 'user_alice', email: 'alice@example.com' });
    expect((await get(server.url, 'whoami', { token: await issuer.sessionToken(ALICE) })).status).toBe(401);
  });

  it('refuses to start in production, naming the variables to set', async () => {
    await expect(startTrpcServer({ port: 0, env: { NODE_ENV: 'production' }, log: () => {} })).rejects.toThrow(/CLERK_SECRET_KEY.*CLERK_JWT_KEY/);
  });

  it('refuses an invalid configuration at startup with a message that names the fix', async () => {
    await expect(startTrpcServer({ port: 0, env: { CLERK_SECRET_KEY: 'pk_test_abc' }, log: () => {} })).rejects.toThrow(/publishable key/);
    await expect(startTrpcServer({ port: 0, env: { CLERK_JWT_KEY: issuer.jwtKey, CLERK_AUTHORIZED_PARTIES: 'https://app.example.com/' }, log: () => {} })).rejects.toThrow(/not an origin/);
  });
});
