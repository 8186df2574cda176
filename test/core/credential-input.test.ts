/**
 * `credentialInputOf`: the server context shapes tRPC and GraphQL hand their integrations, mapped to
 * what the core's one credential reader reads, and read end to end through `authenticate`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';
import { credentialInputOf } from '../../src/core/credential-input.js';

let issuer: TestIssuer;
let clerkAuth: ClerkAuth;
let alice: string;
let bob: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey });
  alice = await issuer.sessionToken({ userId: 'user_alice' });
  bob = await issuer.sessionToken({ userId: 'user_bob' });
});

const bearer = (token: string) => new Request('http://api.test/graphql', { headers: { authorization: `Bearer ${token}` } });
const cookie = (token: string) => new Request('http://api.test/graphql', { headers: { cookie: `__session=${token}; __client_uat=1` } });
const node = (headers: Record<string, string>) => ({ headers, rawHeaders: Object.entries(headers).flat() });
const userOf = (result: AuthenticateResult) => (result.auth.tokenType === 'session_token' ? result.auth.userId : null);
const read = (value: unknown) => clerkAuth.authenticate(credentialInputOf(value), { acceptsToken: 'any' });

describe('credentialInputOf', () => {
  it('passes requests, token strings and nothing through', () => {
    const request = bearer(alice);
    expect(credentialInputOf(request)).toBe(request);
    const incoming = node({ authorization: `Bearer ${alice}` });
    expect(credentialInputOf(incoming)).toBe(incoming);
    expect(credentialInputOf(alice)).toBe(alice);
    expect(credentialInputOf(null)).toBeNull();
    expect(credentialInputOf(undefined)).toBeUndefined();
    expect(credentialInputOf(42)).toBeNull();
    expect(credentialInputOf({})).toBeNull();
    expect(credentialInputOf({ request: 'not a request', req: 7 })).toBeNull();
  });

  it('maps graphql-ws, Yoga, Apollo / Express and tRPC contexts', () => {
    const upgrade = bearer(alice);
    expect(credentialInputOf({ connectionParams: { token: bob }, extra: { request: upgrade } })).toEqual({ connectionParams: { token: bob }, request: upgrade });
    expect(credentialInputOf({ connectionParams: undefined, extra: {} })).toEqual({ connectionParams: null, request: null });
    expect(credentialInputOf({ connectionParams: { token: bob }, req: upgrade })).toEqual({ connectionParams: { token: bob }, request: upgrade });
    expect(credentialInputOf({ request: upgrade, params: { query: '{ me }' } })).toBe(upgrade);
    const incoming = node({ authorization: `Bearer ${alice}` });
    expect(credentialInputOf({ req: incoming, res: {} })).toBe(incoming);
    expect(credentialInputOf({ req: upgrade, resHeaders: new Headers(), info: { connectionParams: { token: bob } } })).toEqual({ connectionParams: { token: bob }, request: upgrade });
    expect(credentialInputOf({ req: upgrade, info: { connectionParams: null } })).toEqual({ connectionParams: null, request: upgrade });
  });

  it('reads each shape end to end by the one rule', async () => {
    // graphql-ws: connectionParams first, then the upgrade request.
    expect(userOf(await read({ connectionParams: { authorization: `Bearer ${bob}` }, extra: { request: node({}) } }))).toBe('user_bob');
    expect(userOf(await read({ connectionParams: {}, extra: { request: bearer(alice) } }))).toBe('user_alice');
    expect(userOf(await read({ connectionParams: {}, extra: { request: cookie(alice) } }))).toBe('user_alice');
    expect((await read({ connectionParams: { token: bob }, extra: { request: bearer(alice) } })).reason).toBe('multiple-authorization-headers');
    expect(userOf(await read({ connectionParams: { token: alice }, extra: { request: bearer(alice) } }))).toBe('user_alice');
    // Yoga and Apollo / Express.
    expect(userOf(await read({ request: bearer(alice) }))).toBe('user_alice');
    expect(userOf(await read({ req: node({ authorization: `Bearer ${bob}` }) }))).toBe('user_bob');
    // tRPC over HTTP (no params), SSE / WebSocket (params), and both disagreeing.
    expect(userOf(await read({ req: bearer(alice), info: { connectionParams: null } }))).toBe('user_alice');
    expect(userOf(await read({ req: node({}), info: { connectionParams: { token: bob } } }))).toBe('user_bob');
    expect((await read({ req: bearer(alice), info: { connectionParams: { token: bob } } })).reason).toBe('multiple-authorization-headers');
    expect((await read({})).reason).toBe('token-missing');
  });

  it('refuses a context that throws when read, never treating it as anonymous', async () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); }, has: () => { throw new Error('boom'); } });
    const result = await read(hostile);
    expect(result.reason).toBe('malformed-authorization-header');
    expect(result.auth.isAuthenticated).toBe(false);
    const hostileExtra = { connectionParams: {}, get extra(): unknown { throw new Error('boom'); } };
    expect((await read(hostileExtra)).reason).toBe('malformed-authorization-header');
  });
});
