/**
 * No token, secret key or private key ever appears in a log line or a response, with the most
 * verbose logging there is: Yoga `logging: 'debug'` and unmasked (dev) errors, a tRPC `onError` that
 * prints every error with its whole cause chain, the reference servers' access log, `auth.debug()`
 * and an inspection of every auth result, through success, rejection and Backend API failure.
 *
 * Tokens are signed here with a key pair whose private half the test knows, so that it can look
 * for the private key too. (The offline dev issuer prints a sample token on purpose; it never runs
 * with a configured key and is refused in production, so it is not part of this test.)
 */
import { generateKeyPairSync, sign as rsaSign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClerkAuth, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, startFakeClerkApi, type FakeClerkApi, type TestIssuer } from 'clerk-api-auth/testing';
import { b64, cleanEnv, graphqlPost, raw, startReferenceApp, startReferenceServers, type AppServers, type RawResponse, type Servers } from './helpers.js';

type Headers = Array<[string, string]>;

const PARTY = 'http://localhost:3000';
let issuer: TestIssuer;
let api: FakeClerkApi;
let privateKey: KeyObject;
let publicPem = '';
let reference: Servers;
let verbose: AppServers;
let verboseRemote: AppServers;
let clerkAuth: ClerkAuth;
/** Every string that must never be printed or answered. */
const needles = new Map<string, string>();
/** Everything printed and answered. */
const haystack: string[] = [];
const bearer = (token: string): Headers => [['authorization', `Bearer ${token}`]];

function render(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { depth: 8, showHidden: false, breakLength: Infinity });
}

beforeAll(async () => {
  // Capture everything any layer prints, from now until the end of the file.
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      haystack.push(args.map(render).join(' '));
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      haystack.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  }

  issuer = await createTestIssuer();
  api = await startFakeClerkApi({ issuer, users: [{ id: 'user_alice', email: 'alice@example.com' }] });
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const jwk = pair.privateKey.export({ format: 'jwk' });
  for (const [i, line] of privatePem.split('\n').filter((l) => l.length === 64).entries()) needles.set(line, `private key PEM line ${i}`);
  for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) needles.set(String(jwk[field]).slice(0, 40), `private JWK ${field}`);
  needles.set(issuer.secretKey, 'secret key');
  needles.set(issuer.secretKey.slice('sk_test_'.length), 'secret key (random part)');

  reference = await startReferenceServers(
    cleanEnv({ CLERK_JWT_KEY: publicPem, CLERK_SECRET_KEY: issuer.secretKey, CLERK_API_URL: api.apiUrl, CLERK_AUTHORIZED_PARTIES: PARTY }),
  );
  clerkAuth = createClerkAuth({ env: {}, jwtKey: publicPem, secretKey: issuer.secretKey, apiUrl: api.apiUrl, authorizedParties: [PARTY] });
  const verboseOptions = {
    trpcOnError: (error: unknown) => console.error('trpc onError', error, (error as { cause?: unknown }).cause),
    yogaLogging: 'debug' as const,
    yogaDevErrors: true,
  };
  verbose = await startReferenceApp(clerkAuth, verboseOptions);
  verboseRemote = await startReferenceApp(createClerkAuth({ env: {}, secretKey: issuer.secretKey, apiUrl: api.apiUrl, apiTimeoutMs: 300 }), verboseOptions);
}, 60_000);

afterAll(async () => {
  await reference?.close();
  await verbose?.close();
  await verboseRemote?.close();
  await api?.close();
  vi.restoreAllMocks();
});

const now = (): number => Math.floor(Date.now() / 1000);

/** A Clerk-format session token signed with the test's own private key. */
function sessionToken(claims: Record<string, unknown> = {}): string {
  const iat = now();
  const payload = { iss: 'https://clerk.test.local', sub: 'user_alice', sid: `sess_${Math.random().toString(36).slice(2)}`, iat, nbf: iat - 5, exp: iat + 600, azp: PARTY, v: 2, sts: 'active', fva: [0, -1], ...claims };
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'ins_secrets', cat: 'cl_B7d4PD111AAA' })}.${b64(payload)}`;
  return `${input}.${rsaSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function remember(token: string, what: string): string {
  needles.set(token, what);
  const signature = token.split('.')[2];
  if (signature && signature.length >= 40) needles.set(signature.slice(-40), `${what} (signature)`);
  return token;
}

function keep(response: RawResponse): RawResponse {
  haystack.push(`${response.status} ${JSON.stringify(response.headers)} ${response.body}`);
  return response;
}

async function exercise(trpcUrl: string, graphqlUrl: string, headers: Headers): Promise<void> {
  keep(await raw(`${trpcUrl}/whoami`, { headers }));
  keep(await raw(`${trpcUrl}/me`, { headers }));
  keep(await raw(`${trpcUrl}/machine.ping`, { headers }));
  keep(await raw(`${trpcUrl}/health,whoami,admin.stats?batch=1&input=${encodeURIComponent('{}')}`, { headers }));
  keep(await raw(`${trpcUrl}/notes.create`, { method: 'POST', headers: [...headers, ['content-type', 'application/json']], body: '{"text":' }));
  keep(await graphqlPost(graphqlUrl, '{ health me { id email } notes { id } adminStats { notes } }', headers));
  keep(await graphqlPost(graphqlUrl, 'mutation { createNote(text: "x") { id } }', headers));
  keep(await graphqlPost(graphqlUrl, '{ notes { id ', headers));
  keep(await graphqlPost(graphqlUrl, '{ nope }', headers));
}

describe('secrets never reach a log line or a response', () => {
  it('with every log turned up, through success, rejection, malformed requests and Backend API failures', async () => {
    const valid = remember(sessionToken(), 'valid session token');
    const admin = remember(sessionToken({ sub: 'user_admin', o: { id: 'org_1', rol: 'admin', per: 'create', fpm: '1' }, fea: 'o:notes' }), 'admin token');
    const expired = remember(sessionToken({ exp: now() - 60 }), 'expired token');
    const pending = remember(sessionToken({ sts: 'pending' }), 'pending token');
    const otherParty = remember(sessionToken({ azp: 'https://evil.example' }), 'token of another party');
    const tampered = remember(`${valid.split('.')[0]}.${b64({ sub: 'user_admin' })}.${valid.split('.')[2]}`, 'tampered token');
    const foreign = remember(await issuer.sessionToken({ userId: 'user_alice' }), 'token of another key');
    const remoteValid = remember(await issuer.sessionToken({ userId: 'user_alice', expiresInSeconds: 600 }), 'valid token (JWKS)');
    const m2m = remember(await issuer.m2mToken({ machineId: 'mch_1' }), 'M2M token');
    const apiKey = remember(issuer.apiKey({ subject: 'user_alice' }).token, 'API key');
    const opaqueM2m = remember(issuer.opaqueM2mToken({ machineId: 'mch_2' }).token, 'opaque M2M token');
    const unknownOpaque = remember(`mt_${'u'.repeat(32)}`, 'unknown opaque token');

    const credentialSets: Headers[] = [
      bearer(valid),
      bearer(admin),
      bearer(expired),
      bearer(pending),
      bearer(otherParty),
      bearer(tampered),
      bearer(foreign),
      bearer(m2m),
      bearer(apiKey),
      bearer(opaqueM2m),
      bearer(unknownOpaque),
      [['cookie', `__session=${valid}`]],
      [['cookie', `__session=${valid}`], ['origin', 'https://evil.example']],
      [['authorization', `Bearer ${valid}`], ['authorization', `Bearer ${admin}`]],
      [['authorization', `Token ${valid}`]],
      bearer(`${valid}==`),
    ];
    for (const fault of ['none', 'error', 'malformed', 'down'] as const) {
      api.setFault({ mode: fault });
      for (const headers of credentialSets) {
        await exercise(reference.trpc.url, reference.graphql.url, headers);
        await exercise(verbose.trpcUrl, verbose.graphqlUrl, headers);
      }
      for (const headers of [bearer(remoteValid), bearer(foreign), bearer(opaqueM2m), bearer(apiKey)]) await exercise(verboseRemote.trpcUrl, verboseRemote.graphqlUrl, headers);
    }
    api.setFault({ mode: 'none', delayMs: 1000 });
    for (const headers of [bearer(remoteValid), bearer(opaqueM2m)]) await exercise(verboseRemote.trpcUrl, verboseRemote.graphqlUrl, headers);
    api.setFault({ mode: 'none' });

    // What a developer prints while debugging: auth results, their debug(), the configuration.
    for (const token of [valid, admin, expired, pending, tampered, m2m, apiKey, unknownOpaque]) {
      const result = await clerkAuth.authenticate(token, { acceptsToken: 'any' });
      haystack.push(render(result), JSON.stringify(result.auth.debug()), JSON.stringify(result));
    }
    haystack.push(render(clerkAuth.config), JSON.stringify(clerkAuth.config), render(clerkAuth));
    haystack.push(...reference.log, ...verbose.log, ...verboseRemote.log);

    // The capture really captured: debug logging and error logging both printed something.
    expect(haystack.some((line) => /debug/i.test(line))).toBe(true);
    expect(haystack.some((line) => line.startsWith('trpc onError'))).toBe(true);
    expect(haystack.some((line) => line.includes('502') || line.includes('BAD_GATEWAY'))).toBe(true);

    const all = haystack.join('\n');
    const leaks = [...needles].filter(([needle]) => all.includes(needle)).map(([needle, what]) => {
      const line = haystack.find((l) => l.includes(needle)) ?? '';
      return `${what}: …${line.slice(Math.max(0, line.indexOf(needle) - 120), line.indexOf(needle)).replace(/\s+/g, ' ')}`;
    });
    expect(leaks).toEqual([]);
    expect(needles.size).toBeGreaterThan(30);
  }, 60_000);
});
