import { createClerkClient, verifyToken } from '@clerk/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';

let issuer: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  issuer = await createTestIssuer({ frontendApi: 'clerk.notes.test' });
  api = await startFakeClerkApi({
    issuer,
    users: [{ id: 'user_1', email: 'ada@example.com', firstName: 'Ada', publicMetadata: { plan: 'pro' } }],
    organizations: [{ id: 'org_1', name: 'Acme', slug: 'acme' }],
  });
});
afterAll(() => api.close());

describe('createTestIssuer mints tokens @clerk/backend itself accepts', () => {
  it('verifyToken with the jwtKey', async () => {
    const payload = await verifyToken(await issuer.sessionToken({ userId: 'user_1', org: { id: 'org_1', role: 'admin' } }), { jwtKey: issuer.jwtKey });
    expect(payload.sub).toBe('user_1');
    expect(payload.iss).toBe('https://clerk.notes.test');
    expect(payload.v).toBe(2);
    expect(payload.o).toEqual({ id: 'org_1', rol: 'admin' });
  });

  it('verifyToken via the fake Backend API JWKS with the secret key', async () => {
    const payload = await verifyToken(await issuer.sessionToken({ userId: 'user_2' }), { secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    expect(payload.sub).toBe('user_2');
  });

  it('authenticateRequest with the publishable key, including machine tokens', async () => {
    const clerk = createClerkClient({ secretKey: issuer.secretKey, publishableKey: issuer.publishableKey, apiUrl: api.apiUrl, jwtKey: issuer.jwtKey });
    const token = await issuer.sessionToken({ userId: 'user_3', org: { id: 'org_1', role: 'member', permissions: ['org:notes:create'] } });
    const state = await clerk.authenticateRequest(new Request('http://api.test/', { headers: { authorization: `Bearer ${token}` } }));
    expect(state.isAuthenticated).toBe(true);
    const auth = state.toAuth();
    if (!auth) throw new Error('expected an auth object');
    expect(auth.userId).toBe('user_3');
    expect(auth.has({ permission: 'org:notes:create' })).toBe(true);

    const m2m = await issuer.m2mToken({ machineId: 'mch_x' });
    const machine = await clerk.authenticateRequest(new Request('http://api.test/', { headers: { authorization: `Bearer ${m2m}` } }), { acceptsToken: 'm2m_token' });
    expect(machine.isAuthenticated).toBe(true);
    expect(machine.toAuth().machineId).toBe('mch_x');
  });

  it('well-formed fake keys; the publishable key encodes the frontend API', () => {
    expect(issuer.secretKey).toMatch(/^sk_test_[A-Za-z0-9]+$/);
    expect(issuer.publishableKey).toMatch(/^pk_test_/);
    expect(atob(issuer.publishableKey.slice('pk_test_'.length))).toBe('clerk.notes.test$');
    expect(issuer.jwtKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----$/);
    expect(issuer.jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: issuer.kid });
  });

  it('encodes organization permissions with Clerk’s fea / per / fpm bitmasks', async () => {
    const token = await issuer.sessionToken({
      org: { id: 'org_1', role: 'admin', permissions: ['org:notes:create', 'org:notes:read', 'org:billing:read'] },
      features: ['export'],
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(payload.o).toEqual({ id: 'org_1', rol: 'admin', per: 'create,read', fpm: '3,2' });
    expect(payload.fea).toBe('o:notes,o:billing,u:export');
  });
});

describe('startFakeClerkApi', () => {
  it('demands the secret key for the JWKS', async () => {
    const anonymous = await fetch(`${api.apiUrl}/v1/jwks`);
    expect(anonymous.status).toBe(401);
    const authorized = await fetch(`${api.apiUrl}/v1/jwks`, { headers: { authorization: `Bearer ${issuer.secretKey}` } });
    expect(authorized.status).toBe(200);
    expect(await authorized.json()).toEqual(issuer.jwks);
  });

  it('serves users and organizations to Clerk’s own client, and counts requests', async () => {
    api.resetCounts();
    const clerk = createClerkClient({ secretKey: issuer.secretKey, apiUrl: api.apiUrl });
    const user = await clerk.users.getUser('user_1');
    expect(user.firstName).toBe('Ada');
    expect(user.primaryEmailAddress?.emailAddress).toBe('ada@example.com');
    expect(user.publicMetadata).toEqual({ plan: 'pro' });
    const list = await clerk.users.getUserList();
    expect(list.totalCount).toBe(1);
    expect(list.data[0]?.id).toBe('user_1');
    expect((await clerk.organizations.getOrganization({ organizationId: 'org_1' })).slug).toBe('acme');
    await expect(clerk.users.getUser('user_missing')).rejects.toMatchObject({ status: 404 });
    expect(api.count('users.get')).toBe(2);
    expect(api.count('users.list')).toBe(1);
    expect(api.count('organizations.get')).toBe(1);
    expect(api.requestCount).toBe(5);
  });

  it('fails on demand', async () => {
    const call = () => fetch(`${api.apiUrl}/v1/jwks`, { headers: { authorization: `Bearer ${issuer.secretKey}` } });
    api.setFault({ mode: 'error' });
    expect((await call()).status).toBe(500);
    api.setFault({ mode: 'malformed' });
    await expect((await call()).json()).rejects.toThrow();
    api.setFault({ mode: 'down' });
    await expect(call()).rejects.toThrow();
    api.setFault({ mode: 'flapping' });
    expect([(await call()).status, (await call()).status, (await call()).status]).toEqual([500, 200, 500]);
    api.setFault({ mode: 'none' });
    expect((await call()).status).toBe(200);
  });
});
