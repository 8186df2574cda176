/**
 * Hostile credentials and headers over real HTTP against both reference servers (examples/trpc and
 * examples/graphql-yoga, in-process, configured from env vars only, on loopback ports).
 *
 * Every class must answer 401 with the stable code of its transport (tRPC `UNAUTHORIZED`, GraphQL
 * `UNAUTHENTICATED`) and `WWW-Authenticate: Bearer error="invalid_token"` when a credential was
 * presented; never a 500, never anyone signed in (body and access log), never the credential echoed;
 * and the server answers a valid request right after. Headers over Node's 16 KB limit get Node's own 431.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import {
  b64,
  cleanEnv,
  GRAPHQL_GUARDED,
  GRAPHQL_MUTATION,
  graphqlPost,
  json,
  parts,
  raw,
  startReferenceApp,
  startReferenceServers,
  trpcWhoami,
  until,
  type AppServers,
  type GraphQLBody,
  type RawResponse,
  type Servers,
  type TrpcErrorBody,
} from './helpers.js';

type Headers = Array<[string, string]>;

interface HostileClass {
  name: string;
  headers: Headers;
  /** Why the core refuses it: the `error_description` of the challenge and GraphQL's `extensions.reason`. */
  reason?: string;
  /** False when the server must not see any credential at all (e.g. a cookie sent cross-site). Default true. */
  presented?: boolean;
  /** tRPC procedure to call. Default `whoami` (signed-in session). */
  procedure?: string;
  /** False for classes the GraphQL reference schema has no field for (machine-only procedures). */
  graphql?: boolean;
  /**
   * A genuine credential of a kind the operation does not accept (a machine token for a session, or
   * the reverse): refused with 401, but the access log may name whose credential it was.
   */
  otherKind?: boolean;
}

const PARTY = 'http://localhost:3000';
let issuer: TestIssuer;
let stranger: TestIssuer;
let api: FakeClerkApi;
let servers: Servers;
let configured: AppServers;
let alice = '';
let bob = '';
const classes: HostileClass[] = [];
const configuredClasses: HostileClass[] = [];

const bearer = (token: string): Headers => [['authorization', `Bearer ${token}`]];
const now = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
  servers = await startReferenceServers(
    cleanEnv({ CLERK_JWT_KEY: issuer.jwtKey, CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl, CLERK_AUTHORIZED_PARTIES: PARTY }),
  );
  configured = await startReferenceApp(
    createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, issuer: issuer.issuerUrl, audience: 'https://api.example.com', authorizedParties: [PARTY] }),
  );
  servers.graphql.store.create('alice note', 'user_alice');

  alice = await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: 600 });
  bob = await issuer.sessionToken({ userId: 'user_bob', expiresInSeconds: 600 });
  const { header, payload, signature } = parts(alice);
  const [h64 = '', p64 = ''] = alice.split('.');
  const signed = (changes: Record<string, unknown>, headerChanges: Record<string, unknown> = {}) =>
    issuer.sign(stripUndefined({ ...payload, ...changes }), stripUndefined({ ...header, ...headerChanges }));
  const forged = (changes: Record<string, unknown> = {}, headerChanges: Record<string, unknown> = {}) =>
    stranger.sign(stripUndefined({ ...payload, ...changes }), stripUndefined({ ...header, ...headerChanges }));
  const hs256 = (secret: string | Buffer) => {
    const input = `${b64({ ...header, alg: 'HS256' })}.${p64}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const withSignature = (token: string, sig: string) => `${token.split('.').slice(0, 2).join('.')}.${sig}`;
  const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  const strangerJwk = stranger.jwks.keys[0] as JsonWebKey;
  const m2m = await issuer.m2mToken({ machineId: 'mch_billing' });
  const opaqueM2m = issuer.opaqueM2mToken({ machineId: 'mch_revoked' }).token;
  issuer.revoke(opaqueM2m);
  const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;

  classes.push(
    // Algorithms and signatures.
    { name: 'alg none, empty signature', reason: 'token-invalid', headers: bearer(`${b64({ ...header, alg: 'none' })}.${p64}.`) },
    { name: 'alg none, with a signature', reason: 'token-invalid-algorithm', headers: bearer(`${b64({ ...header, alg: 'none' })}.${p64}.${signature}`) },
    { name: 'alg "None" signed by the real key', reason: 'token-invalid-algorithm', headers: bearer(await signed({}, { alg: 'None' })) },
    { name: 'HS256 keyed with the PEM public key', reason: 'token-invalid-algorithm', headers: bearer(hs256(issuer.jwtKey)) },
    { name: 'HS256 keyed with the PEM body (no armour)', reason: 'token-invalid-algorithm', headers: bearer(hs256(issuer.jwtKey.replace(/-----[^-]+-----|\s/g, ''))) },
    { name: 'HS256 keyed with the JWK modulus', reason: 'token-invalid-algorithm', headers: bearer(hs256(String((issuer.jwks.keys[0] as JsonWebKey).n))) },
    { name: 'alg ES256 on an RSA signature', reason: 'token-invalid-algorithm', headers: bearer(await signed({}, { alg: 'ES256' })) },
    { name: 'alg PS256 on a PKCS#1 v1.5 signature', reason: 'token-invalid-algorithm', headers: bearer(await signed({}, { alg: 'PS256' })) },
    { name: 'alg RS512 on an RS256 signature', reason: 'token-verification-failed', headers: bearer(withSignature(`${b64({ ...header, alg: 'RS512' })}.${p64}.x`, signature)) },
    { name: 'signed by another key pair', reason: 'token-invalid-signature', headers: bearer(await stranger.sessionToken({ userId: 'user_alice' })) },
    { name: 'kid game: another key, our kid', reason: 'token-invalid-signature', headers: bearer(await forged({}, { kid: issuer.kid })) },
    { name: 'kid game: path traversal kid', reason: 'token-invalid-signature', headers: bearer(await forged({}, { kid: '../../../../../../dev/null' })) },
    { name: 'kid game: kid of the wrong type', reason: 'token-invalid-signature', headers: bearer(await forged({}, { kid: { $ne: null } })) },
    { name: 'kid game: no kid', reason: 'token-invalid-signature', headers: bearer(await forged({}, { kid: undefined })) },
    { name: 'embedded jwk header (key confusion)', reason: 'token-invalid-signature', headers: bearer(await forged({}, { jwk: { kty: 'RSA', n: strangerJwk.n, e: strangerJwk.e } })) },
    { name: 'jku header pointing at a key server', reason: 'token-invalid-signature', headers: bearer(await forged({}, { jku: `${api.apiUrl}/v1/jwks`, x5u: `${api.apiUrl}/x5u` })) },
    { name: 'one signature character changed', reason: 'token-invalid-signature', headers: bearer(withSignature(alice, flip(signature, 40))) },
    { name: 'payload swapped for another user, signature kept', reason: 'token-invalid-signature', headers: bearer(`${h64}.${b64({ ...payload, sub: 'user_admin' })}.${signature}`) },
    { name: 'genuine header and payload, signature of another genuine token', reason: 'token-invalid-signature', headers: bearer(withSignature(alice, bob.split('.')[2] ?? '')) },
    { name: 'all-zero signature', reason: 'token-invalid-signature', headers: bearer(withSignature(alice, 'A'.repeat(342))) },
    // Claims, signed by the configured key.
    { name: 'expired beyond the clock skew', reason: 'token-expired', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: -60 })) },
    { name: 'expired at the epoch', reason: 'token-expired', headers: bearer(await signed({ exp: 0, iat: 0, nbf: 0 })) },
    { name: 'exp missing', reason: 'token-verification-failed', headers: bearer(await signed({ exp: undefined })) },
    { name: 'exp of the wrong type (string)', reason: 'token-verification-failed', headers: bearer(await signed({ exp: String(now() + 600) })) },
    { name: 'exp null', reason: 'token-verification-failed', headers: bearer(await signed({ exp: null })) },
    { name: 'nbf in the future', reason: 'token-not-active-yet', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', notBeforeOffsetSeconds: 120, expiresInSeconds: 600 })) },
    { name: 'nbf of the wrong type', reason: 'token-verification-failed', headers: bearer(await signed({ nbf: 'yesterday' })) },
    { name: 'iat in the future', reason: 'token-iat-in-the-future', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', issuedAtOffsetSeconds: 120, notBeforeOffsetSeconds: -5, expiresInSeconds: 600 })) },
    { name: 'iat of the wrong type', reason: 'token-verification-failed', headers: bearer(await signed({ iat: [now()] })) },
    { name: 'azp of another party', reason: 'token-invalid-authorized-parties', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', azp: 'https://evil.example' })) },
    { name: 'azp missing while CLERK_AUTHORIZED_PARTIES is set', reason: 'token-invalid-authorized-parties', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', azp: null })) },
    { name: 'azp of the wrong type (array)', reason: 'token-invalid-authorized-parties', headers: bearer(await signed({ azp: [PARTY] })) },
    { name: 'azp differing only in case', reason: 'token-invalid-authorized-parties', headers: bearer(await signed({ azp: PARTY.toUpperCase() })) },
    { name: 'sub missing', reason: 'token-verification-failed', headers: bearer(await signed({ sub: undefined })) },
    { name: 'sub of the wrong type', reason: 'token-verification-failed', headers: bearer(await signed({ sub: 42 })) },
    { name: 'typ other than JWT', reason: 'token-invalid', headers: bearer(await signed({}, { typ: 'JWS' })) },
    { name: 'session claims in an M2M category', reason: 'token-type-mismatch', headers: bearer(await signed({}, { cat: 'cl_B7d4PD333AAA' })) },
    { name: 'pending session', reason: 'session-pending', headers: bearer(await issuer.sessionToken({ userId: 'user_alice', status: 'pending', expiresInSeconds: 600 })) },
    // Encoding.
    { name: 'truncated signature', reason: 'token-invalid-signature', headers: bearer(alice.slice(0, -10)) },
    { name: 'two segments', reason: 'token-invalid', headers: bearer(`${h64}.${p64}`) },
    { name: 'four segments', reason: 'token-invalid', headers: bearer(`${alice}.${signature}`) },
    { name: 'padded with =', reason: 'token-invalid', headers: bearer(`${alice}==`) },
    { name: 'padding inside a segment', reason: 'token-invalid', headers: bearer(`${h64}=.${p64}.${signature}`) },
    { name: 'standard base64 (+ and /) instead of base64url', reason: 'token-invalid', headers: bearer(withSignature(alice, Buffer.from(signature, 'base64url').toString('base64').replace(/=+$/, ''))) },
    { name: 'non-canonical base64url (nonzero trailing bits)', reason: 'token-invalid', headers: bearer(withSignature(alice, signature.slice(0, -1) + (signature.endsWith('B') ? 'C' : 'B'))) },
    { name: 'characters outside base64url', reason: 'token-invalid', headers: bearer(`${h64}.${p64}.${signature.slice(0, 20)}!$*${signature.slice(23)}`) },
    { name: 'non-ASCII byte in the token', reason: 'token-invalid', headers: bearer(`${h64}.${p64}.\u00e9${signature.slice(1)}`) },
    { name: 'header not JSON', reason: 'token-invalid', headers: bearer(`${b64('{"alg":"RS256",')}.${p64}.${signature}`) },
    { name: 'payload not JSON', reason: 'token-invalid', headers: bearer(`${h64}.${b64('sub=user_alice')}.${signature}`) },
    { name: 'payload a JSON array', reason: 'token-invalid', headers: bearer(`${h64}.${b64([payload])}.${signature}`) },
    { name: 'payload JSON null', reason: 'token-invalid', headers: bearer(`${h64}.${b64('null')}.${signature}`) },
    { name: 'payload not UTF-8', reason: 'token-invalid', headers: bearer(`${h64}.${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${signature}`) },
    { name: 'header JSON with wrong types', reason: 'token-invalid', headers: bearer(`${b64({ alg: 256, typ: ['JWT'], kid: null })}.${p64}.${signature}`) },
    { name: 'deeply nested JSON payload', reason: 'token-invalid', headers: bearer(`${h64}.${b64(deep)}.${signature}`) },
    { name: 'empty segments', reason: 'token-invalid', headers: bearer('..') },
    { name: 'huge token under the header limit (15 KB)', reason: 'token-invalid', headers: bearer(`${h64}.${'A'.repeat(15_000 - h64.length - signature.length - 2)}.${signature}`) },
    { name: 'huge genuine-looking payload, forged (10 KB)', reason: 'token-invalid-signature', headers: bearer(await forged({ pad: 'x'.repeat(7_000) })) },
    // Authorization header syntax.
    { name: 'Basic scheme', reason: 'malformed-authorization-header', headers: [['authorization', 'Basic dXNlcl9hbGljZTpodW50ZXIy']] },
    { name: 'another scheme carrying a valid token', reason: 'malformed-authorization-header', headers: [['authorization', `Token ${alice}`]] },
    { name: 'valid token without a scheme', reason: 'malformed-authorization-header', headers: [['authorization', alice]] },
    { name: 'scheme without a token', reason: 'malformed-authorization-header', headers: [['authorization', 'Bearer']] },
    { name: 'tab instead of a space after the scheme', reason: 'malformed-authorization-header', headers: [['authorization', `Bearer\t${alice}`]] },
    { name: 'quoted token', reason: 'token-invalid', headers: [['authorization', `Bearer "${alice}"`]] },
    { name: 'two tokens in one header', reason: 'malformed-authorization-header', headers: [['authorization', `Bearer ${alice} ${bob}`]] },
    { name: 'trailing comma (list syntax)', reason: 'malformed-authorization-header', headers: [['authorization', `Bearer ${alice},`]] },
    { name: 'two credentials joined in one header', reason: 'multiple-authorization-headers', headers: [['authorization', `Bearer ${alice}, Bearer ${bob}`]] },
    { name: 'two Authorization headers: valid then garbage', reason: 'multiple-authorization-headers', headers: [['authorization', `Bearer ${alice}`], ['authorization', 'Bearer garbage']] },
    { name: 'two Authorization headers: garbage then valid', reason: 'multiple-authorization-headers', headers: [['authorization', 'Bearer garbage'], ['authorization', `Bearer ${alice}`]] },
    { name: 'two Authorization headers: two valid users', reason: 'multiple-authorization-headers', headers: [['authorization', `Bearer ${alice}`], ['Authorization', `Bearer ${bob}`]] },
    { name: 'two Authorization headers: the same valid token twice', reason: 'multiple-authorization-headers', headers: [['authorization', `Bearer ${alice}`], ['authorization', `Bearer ${alice}`]] },
    { name: 'Authorization header, valid, then an empty one', reason: 'malformed-authorization-header', headers: [['authorization', `Bearer ${alice}`], ['authorization', '']] },
    // Cookies.
    { name: 'garbage __session cookie', reason: 'token-invalid', headers: [['cookie', '__client_uat=1; __session=garbage.token.value']] },
    { name: 'expired __session cookie', reason: 'token-expired', headers: [['cookie', `__client_uat=1; __session=${await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: -60 })}`]] },
    { name: 'valid __session cookie without __client_uat (signed-out browser)', reason: 'session-token-but-no-client-uat', headers: [['cookie', `__session=${alice}`]] },
    { name: 'M2M token in the __session cookie', reason: 'token-type-mismatch', headers: [['cookie', `__client_uat=1; __session=${m2m}`]] },
    { name: 'header and cookie disagree: broken header, valid cookie', reason: 'token-invalid', headers: [['authorization', 'Bearer garbage'], ['cookie', `__session=${alice}`]] },
    { name: 'header and cookie disagree: expired header, valid cookie', reason: 'token-expired', headers: [...bearer(await issuer.sessionToken({ userId: 'user_bob', expiresInSeconds: -60 })), ['cookie', `__session=${alice}`]] },
    { name: 'valid cookie sent cross-site (Origin)', headers: [['cookie', `__session=${alice}`], ['origin', 'https://evil.example']], presented: false },
    { name: 'valid cookie sent cross-site (Sec-Fetch-Site)', headers: [['cookie', `__session=${alice}`], ['sec-fetch-site', 'cross-site']], presented: false },
    { name: 'valid cookie from an opaque origin (Origin: null)', headers: [['cookie', `__session=${alice}`], ['origin', 'null']], presented: false },
    { name: 'two __session cookies for two users', headers: [['cookie', `__session=${alice}; __session=${bob}`]], presented: false },
    // Token kinds.
    { name: 'M2M token where a session is required', reason: 'token-type-mismatch', headers: bearer(m2m), otherKind: true },
    { name: 'OAuth access token where a session is required', reason: 'token-type-mismatch', headers: bearer(await issuer.oauthToken({ userId: 'user_alice' })), otherKind: true },
    { name: 'opaque API key where a session is required', reason: 'token-type-mismatch', headers: bearer(issuer.apiKey({ subject: 'user_alice' }).token), otherKind: true },
    { name: 'opaque M2M token where a session is required', reason: 'token-type-mismatch', headers: bearer(issuer.opaqueM2mToken().token), otherKind: true },
    { name: 'session token where a machine token is required', reason: 'token-type-mismatch', headers: bearer(alice), procedure: 'machine.ping', graphql: false, otherKind: true },
    { name: 'expired M2M token', reason: 'token-expired', headers: bearer(await issuer.m2mToken({ expiresInSeconds: -60 })), procedure: 'machine.ping', graphql: false },
    { name: 'M2M token signed by another key', reason: 'token-invalid-signature', headers: bearer(await stranger.m2mToken({ machineId: 'mch_billing' })), procedure: 'machine.ping', graphql: false },
    { name: 'revoked opaque M2M token', reason: 'token-invalid', headers: bearer(opaqueM2m), procedure: 'machine.ping', graphql: false },
    { name: 'unknown opaque M2M token', reason: 'token-invalid', headers: bearer(`mt_${'x'.repeat(40)}`), procedure: 'machine.ping', graphql: false },
  );

  // Checked by the reference app configured with `issuer` and `audience` (options the env-only servers do not read).
  configuredClasses.push(
    { name: 'issuer other than the configured one', reason: 'token-invalid-issuer', headers: bearer(await signed({ iss: 'https://evil.clerk.accounts.dev' })) },
    { name: 'issuer missing while one is configured', reason: 'token-invalid-issuer', headers: bearer(await signed({ iss: undefined })) },
    { name: 'issuer of the wrong type', reason: 'token-invalid-issuer', headers: bearer(await signed({ iss: [issuer.issuerUrl] })) },
    { name: 'audience other than the configured one', reason: 'token-verification-failed', headers: bearer(await signed({ aud: 'https://other-api.example.com' })) },
    { name: 'audience list without the configured one', reason: 'token-verification-failed', headers: bearer(await signed({ aud: ['https://a.example', 'https://b.example'] })) },
  );
}, 60_000);

afterAll(async () => {
  await servers?.close();
  await configured?.close();
  await api?.close();
});

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** Pieces of each presented credential long enough to be recognisable, which no response may echo. */
function secretsOf(headers: Headers): string[] {
  return headers.map(([, value]) => value.replace(/^\S+ /, '').replace(/^__session=/, '')).filter((value) => value.length >= 24).map((value) => value.slice(-24));
}

async function nextLogLine(log: string[], before: number, prefix: string): Promise<string> {
  await until(() => log.slice(before).some((line) => line.startsWith(prefix)), 5000, `the ${prefix.trim()} access-log line`);
  return log.slice(before).find((line) => line.startsWith(prefix)) as string;
}

/**
 * A malformed or doubled credential is the request's fault (RFC 6750 §3.1): 400 `invalid_request`,
 * which no token refresh can fix. Every other refused credential is a 401.
 */
function isInvalidRequest(c: HostileClass): boolean {
  return c.reason === 'malformed-authorization-header' || c.reason === 'multiple-authorization-headers';
}

function statusOf(c: HostileClass): number {
  return isInvalidRequest(c) ? 400 : 401;
}

function expectChallenge(response: RawResponse, c: HostileClass): void {
  const challenge = response.headers['www-authenticate'];
  if (c.presented === false) expect(challenge, c.name).toBe('Bearer');
  else if (isInvalidRequest(c)) expect(challenge, c.name).toBe(`Bearer error="invalid_request", error_description="${c.reason}"`);
  else expect(challenge, c.name).toBe(`Bearer error="invalid_token", error_description="${c.reason}"`);
}

function expectNoEcho(response: RawResponse, headers: Headers, name: string): void {
  for (const secret of secretsOf(headers)) expect(response.body.includes(secret), `${name}: the response echoes the credential`).toBe(false);
}

async function expectTrpcRejects(trpcUrl: string, log: string[], c: HostileClass): Promise<void> {
  const before = log.length;
  const response = await raw(`${trpcUrl}/${c.procedure ?? 'whoami'}`, { headers: c.headers });
  const status = statusOf(c);
  expect(response.status, `${c.name}: ${response.body.slice(0, 300)}`).toBe(status);
  const body = json<TrpcErrorBody>(response);
  expect(body.result, c.name).toBeUndefined();
  expect(body.error?.data, c.name).toMatchObject({ code: status === 400 ? 'BAD_REQUEST' : 'UNAUTHORIZED', httpStatus: status });
  expectChallenge(response, c);
  expectNoEcho(response, c.headers, c.name);
  expect(await nextLogLine(log, before, 'trpc '), c.name).toMatch(new RegExp(` ${status} ${c.otherKind ? '\\S+' : 'anonymous'} [\\d.]+ms$`));
}

async function expectGraphqlRejects(graphqlUrl: string, log: string[], c: HostileClass): Promise<void> {
  // A presented credential that fails: the whole operation is 401. No credential seen at all (a
  // cross-site cookie): partial data is the contract for queries, so the guarded mutation proves the 401.
  const before = log.length;
  const response = await graphqlPost(graphqlUrl, c.presented === false ? GRAPHQL_MUTATION : GRAPHQL_GUARDED, c.headers);
  const status = statusOf(c);
  expect(response.status, `${c.name}: ${response.body.slice(0, 300)}`).toBe(status);
  const body = json<GraphQLBody>(response);
  expect(body.data ?? null, c.name).toBeNull();
  expect(body.errors?.[0]?.extensions, c.name).toMatchObject({
    code: status === 400 ? 'INVALID_REQUEST' : 'UNAUTHENTICATED',
    reason: c.presented === false ? 'token-missing' : c.reason,
  });
  expectChallenge(response, c);
  expectNoEcho(response, c.headers, c.name);
  expect(await nextLogLine(log, before, 'graphql '), c.name).toMatch(new RegExp(` ${status} ${c.otherKind ? '\\S+' : 'anonymous'} [\\d.]+ms$`));
}

async function expectStillServing(trpcUrl: string, graphqlUrl: string, what: string): Promise<void> {
  const who = await trpcWhoami(trpcUrl, bearer(alice));
  expect(who.status, `tRPC after ${what}`).toBe(200);
  expect(json<{ result: { data: { userId: string } } }>(who).result.data.userId).toBe('user_alice');
  const notes = await graphqlPost(graphqlUrl, '{ notes { authorId } }', bearer(alice));
  expect(notes.status, `GraphQL after ${what}`).toBe(200);
  const data = json<GraphQLBody>(notes).data as { notes: Array<{ authorId: string }> } | undefined;
  expect(data?.notes.every((note) => note.authorId === 'user_alice')).toBe(true);
}

describe('hostile credentials over HTTP, both reference servers', () => {
  it('has at least 40 classes, each with the reason it must be refused for', () => {
    expect(classes.length + configuredClasses.length + 3).toBeGreaterThanOrEqual(40);
    expect(new Set(classes.map((c) => c.name)).size).toBe(classes.length);
    for (const c of [...classes, ...configuredClasses]) expect(c.presented === false || typeof c.reason === 'string', c.name).toBe(true);
  });

  it('each class: 401 invalid_token (400 invalid_request for a malformed or doubled credential) with a stable code, nobody signed in, never echoed; then a valid request succeeds', async () => {
    const failures: string[] = [];
    for (const c of classes) {
      try {
        await expectTrpcRejects(servers.trpc.url, servers.log, c);
        if (c.graphql !== false) await expectGraphqlRejects(servers.graphql.url, servers.log, c);
        await expectStillServing(servers.trpc.url, servers.graphql.url, c.name);
      } catch (error) {
        failures.push(`${c.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(servers.graphql.store.count()).toBe(1); // no hostile mutation created a note
  });

  it('issuer and audience, when configured: 401 for a wrong, missing or mistyped claim', async () => {
    const good = await issuer.sign({ ...parts(alice).payload, aud: 'https://api.example.com' }, parts(alice).header);
    const failures: string[] = [];
    for (const c of configuredClasses) {
      try {
        await expectTrpcRejects(configured.trpcUrl, configured.log, c);
        await expectGraphqlRejects(configured.graphqlUrl, configured.log, c);
      } catch (error) {
        failures.push(`${c.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
      expect((await trpcWhoami(configured.trpcUrl, bearer(good))).status).toBe(200);
    }
    expect(failures).toEqual([]);
  });

  it("headers over Node's 16 KB limit get Node's own 431, never a 500, and the server keeps serving", async () => {
    const oversized: Array<[string, Headers]> = [
      ['a 17 KB bearer token', bearer(`${alice.split('.')[0]}.${'A'.repeat(17_000)}.${parts(alice).signature}`)],
      ['a 20 KB cookie', [['cookie', `__session=${'a'.repeat(20_000)}`]]],
      ['many headers adding up to 24 KB', Array.from({ length: 48 }, (_, i): [string, string] => [`x-pad-${i}`, 'p'.repeat(500)])],
    ];
    for (const [name, headers] of oversized) {
      expect((await trpcWhoami(servers.trpc.url, headers)).status, name).toBe(431);
      expect((await graphqlPost(servers.graphql.url, GRAPHQL_GUARDED, headers)).status, name).toBe(431);
      await expectStillServing(servers.trpc.url, servers.graphql.url, name);
    }
  });

  it('header and cookie both valid for different users: the header decides (as @clerk/backend does), never the cookie', async () => {
    const headers: Headers = [...bearer(alice), ['cookie', `__session=${bob}`]];
    const who = await trpcWhoami(servers.trpc.url, headers);
    expect(json<{ result: { data: { userId: string } } }>(who).result.data.userId).toBe('user_alice');
    const notes = await graphqlPost(servers.graphql.url, '{ notes { authorId } }', headers);
    expect(json<GraphQLBody>(notes).data).toEqual({ notes: [{ authorId: 'user_alice' }] });
  });

  it('public operations still answer whatever the credential, and hostile batches never sign anyone in', async () => {
    for (const c of classes.slice(0, 20)) {
      const health = await raw(`${servers.trpc.url}/health`, { headers: c.headers });
      expect(health.status, c.name).toBe(200);
      const batch = await raw(`${servers.trpc.url}/health,whoami,notes.list?batch=1&input=${encodeURIComponent('{}')}`, { headers: c.headers });
      expect(batch.status, c.name).toBe(207);
      const body = json<TrpcErrorBody[]>(batch);
      expect(body[1]?.error?.data?.code, c.name).toBe('UNAUTHORIZED');
      expect(body[2]?.error?.data?.code, c.name).toBe('UNAUTHORIZED');
      const gql = await graphqlPost(servers.graphql.url, '{ health }', c.headers);
      expect(json<GraphQLBody>(gql).data, c.name).toEqual({ health: 'ok' });
    }
  });
});
