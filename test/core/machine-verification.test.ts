/**
 * Opaque machine tokens are verified with our own `fetch` (so a timeout can abort the request), not
 * through `@clerk/backend`'s `verifyMachineAuthToken`, which takes neither a fetch nor a signal. This
 * proves the two are the same call with the same reading of the answer: same method, path, body and
 * Clerk headers at the stand-in; the same verification result; the same reason for every status.
 */
import { authenticatedMachineObject, verifyMachineAuthToken } from '@clerk/backend/internal';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, startFakeClerkApi, type FakeApiFault, type FakeClerkApi, type FakeRequestRecord, type TestIssuer } from 'clerk-api-auth/testing';
import { verifyOpaqueToken, type OpaqueVerification } from '../../src/core/machine-verification.js';
import { toSignedOutReason } from '../../src/core/reasons.js';
import type { MachineTokenType } from '../../src/core/types.js';

let issuer: TestIssuer;
let api: FakeClerkApi;

beforeAll(async () => {
  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer });
});
afterEach(() => {
  api.setFault({ mode: 'none' });
  api.resetCounts();
});
afterAll(() => api.close());

const ROUTE: Record<MachineTokenType, string> = { api_key: 'api_keys.verify', m2m_token: 'm2m_tokens.verify', oauth_token: 'oauth.verify' };
const KIND_OF = (token: string): MachineTokenType => (token.startsWith('ak_') ? 'api_key' : token.startsWith('mt_') ? 'm2m_token' : 'oauth_token');

/** What identifies the call: everything but the transport's own headers (user agent, length, connection…). */
function call(seen: FakeRequestRecord | undefined) {
  expect(seen).toBeDefined();
  const { method, path, body, authorized, headers } = seen as FakeRequestRecord;
  return { method, path, body, authorized, clerkApiVersion: headers['clerk-api-version'], contentType: headers['content-type'] };
}

async function both(token: string, options: { secretKey?: string; machineSecretKey?: string; audience?: string } = {}) {
  const kind = KIND_OF(token);
  const secretKey = options.secretKey ?? issuer.secretKey;
  const clerk = await verifyMachineAuthToken(token, { secretKey, apiUrl: api.apiUrl, ...(options.machineSecretKey && { machineSecretKey: options.machineSecretKey }), ...(options.audience && { audience: options.audience }) } as Parameters<typeof verifyMachineAuthToken>[1]);
  const clerkCall = call(api.lastRequest(ROUTE[kind]));
  const ours = await verifyOpaqueToken(token, kind, { apiUrl: api.apiUrl, secretKey, machineSecretKey: options.machineSecretKey, audience: options.audience, timeoutMs: 5000 });
  const ourCall = call(api.lastRequest(ROUTE[kind]));
  return { kind, clerk, clerkCall, ours, ourCall };
}

/** The auth object's fields, as the integrations see them. */
function machineFields(kind: MachineTokenType, token: string, data: Parameters<typeof authenticatedMachineObject>[2]): unknown {
  const auth = authenticatedMachineObject(kind, token, data) as unknown as Record<string, unknown>;
  const { getToken: _getToken, has: _has, debug: _debug, ...fields } = auth;
  return JSON.parse(JSON.stringify(fields));
}

function reasonOf(outcome: OpaqueVerification): string | null {
  return 'reason' in outcome ? outcome.reason : null;
}

describe('opaque verification: the same Backend API call as @clerk/backend', () => {
  it('API key, M2M token, OAuth token: same method, path, body and Clerk headers', async () => {
    const tokens = [issuer.apiKey({ subject: 'user_1', scopes: ['a'] }).token, issuer.opaqueM2mToken({ machineId: 'mch_1' }).token, 'oat_unknown'];
    for (const token of tokens) {
      const { kind, clerkCall, ourCall } = await both(token);
      expect(ourCall, kind).toEqual(clerkCall);
      expect(clerkCall.method).toBe('POST');
      expect(clerkCall.clerkApiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(api.count('api_keys.verify')).toBe(2);
    expect(api.count('m2m_tokens.verify')).toBe(2);
    expect(api.count('oauth.verify')).toBe(2);
  });

  it('an M2M token is verified with the machine secret key when one is configured, as the SDK does', async () => {
    const token = issuer.opaqueM2mToken({ machineId: 'mch_1' }).token;
    const { clerk, clerkCall, ours, ourCall } = await both(token, { machineSecretKey: 'ak_machine_secret_for_test' });
    expect(ourCall).toEqual(clerkCall);
    expect(ourCall.authorized).toBe(false); // the stand-in knows only the instance secret key
    expect(clerk.errors?.[0]?.code).toBe('secret-key-invalid');
    expect(reasonOf(ours)).toBe('secret-key-invalid');
  });

  it('the same verification result: APIKey and M2MToken fields equal, so the auth objects are equal', async () => {
    const cases = [
      issuer.apiKey({ subject: 'org_7', scopes: ['notes:read', 'notes:write'], name: 'ci', claims: { tier: 'gold' }, expiresInSeconds: 600 }).token,
      issuer.apiKey({ subject: 'user_9' }).token,
      issuer.opaqueM2mToken({ machineId: 'mch_cron', scopes: ['mch_api'], claims: { region: 'eu' } }).token,
    ];
    for (const token of cases) {
      const { kind, clerk, ours } = await both(token);
      expect(clerk.errors).toBeUndefined();
      if (!('data' in ours)) throw new Error(`expected a result for ${kind}, got ${reasonOf(ours)}`);
      // The stand-in stamps created_at/updated_at with the time of each answer: compared by type only.
      const plain = (data: unknown) => {
        const { createdAt, updatedAt, ...rest } = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
        return { ...rest, createdAt: typeof createdAt, updatedAt: typeof updatedAt };
      };
      expect(plain(ours.data), kind).toEqual(plain(clerk.data));
      expect(plain(ours.data).createdAt).toBe('number');
      expect(machineFields(kind, token, ours.data), kind).toEqual(machineFields(kind, token, clerk.data as never));
    }
  });

  const faults: Array<[string, FakeApiFault | 'wrong key' | 'revoked' | 'unknown']> = [
    ['unknown token (404)', 'unknown'],
    ['revoked token (404)', 'revoked'],
    ['refused secret key (401)', 'wrong key'],
    ['server error (500)', { mode: 'error' }],
    ['malformed answer', { mode: 'malformed' }],
    ['connection dropped', { mode: 'down' }],
  ];
  for (const [name, fault] of faults) {
    it(`${name}: the reason @clerk/backend's error code maps to`, async () => {
      const key = issuer.apiKey({ subject: 'user_1' });
      let token = key.token;
      let secretKey: string | undefined;
      if (fault === 'unknown') token = 'ak_never_issued';
      else if (fault === 'revoked') issuer.revoke(token);
      else if (fault === 'wrong key') secretKey = 'sk_test_wrongwrongwrong';
      else api.setFault(fault);
      const { clerk, ours } = await both(token, secretKey ? { secretKey } : {});
      const code = clerk.errors?.[0]?.code;
      expect(code, 'Clerk refuses it').toBeDefined();
      const expected = code === 'unexpected-error' ? 'clerk-api-unavailable' : toSignedOutReason(code);
      expect(reasonOf(ours)).toBe(expected);
      expect('definite' in ours && ours.definite).toBe(fault === 'unknown' || fault === 'revoked');
    });
  }
});
