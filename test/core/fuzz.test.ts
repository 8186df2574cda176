/**
 * Property-based fuzzing of `authenticate()` with fast-check: generated and mutated tokens and
 * headers. It never throws, never resolves signed in for anything the configured key did not sign,
 * and never hands one caller another caller's identity (cache included).
 *
 * `npm test` runs a few thousand cases; `npm run test:stress` runs 100,000+ (CLERK_API_AUTH_FUZZ_RUNS).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkAuth, type AuthenticateInput, type AuthenticateResult, type ClerkAuth } from 'clerk-api-auth';
import { createTestIssuer, type TestIssuer } from 'clerk-api-auth/testing';

const RUNS = Number(process.env.CLERK_API_AUTH_FUZZ_RUNS ?? 2500);
let issuer: TestIssuer;
let stranger: TestIssuer;
let clerkAuth: ClerkAuth;
/** Signed by the configured key: signing input → user id. */
const genuine = new Map<string, string>();
const pool: string[] = [];

const signingInput = (token: string) => token.split('.').slice(0, 2).join('.');
const userOf = (result: AuthenticateResult) => (result.auth.tokenType === 'session_token' ? result.auth.userId : 'machine' in result.auth ? null : null);

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  clerkAuth = createClerkAuth({ env: {}, jwtKey: issuer.jwtKey, authorizedParties: ['http://localhost:3000'] });
  for (let i = 0; i < 24; i++) {
    const userId = `user_${i}`;
    const token = await issuer.sessionToken({ userId, expiresInSeconds: 3600, org: i % 2 ? { id: `org_${i}`, role: 'admin', permissions: ['org:a:b'] } : undefined });
    genuine.set(signingInput(token), userId);
    pool.push(token);
  }
  for (let i = 0; i < 4; i++) pool.push(await stranger.sessionToken({ userId: `user_${i}`, expiresInSeconds: 3600 }));
}, 60_000);

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function mutatedToken(): fc.Arbitrary<string> {
  const base = fc.integer({ min: 0, max: 1000 }).map((i) => pool[i % pool.length] as string);
  const char = fc.constantFrom(...'ABCxyz019-_.=+/ %\u00e9\u0000"'.split(''));
  return fc.oneof(
    base,
    fc.tuple(base, fc.nat(), char).map(([t, at, c]) => t.slice(0, at % (t.length + 1)) + c + t.slice((at % (t.length + 1)) + 1)),
    fc.tuple(base, fc.nat(), char).map(([t, at, c]) => t.slice(0, at % (t.length + 1)) + c + t.slice(at % (t.length + 1))),
    fc.tuple(base, fc.nat()).map(([t, at]) => t.slice(0, at % t.length) + t.slice((at % t.length) + 1)),
    fc.tuple(base, base).map(([a, b]) => `${a.split('.')[0]}.${b.split('.')[1]}.${a.split('.')[2]}`),
    fc.tuple(base, base).map(([a, b]) => `${b.split('.')[0]}.${a.split('.')[1]}.${b.split('.')[2]}`),
    fc.tuple(base, fc.nat()).map(([t, n]) => t.slice(0, n % t.length)),
    fc.tuple(base, fc.string()).map(([t, s]) => t + s),
    fc.tuple(fc.jsonValue(), fc.jsonValue(), base).map(([h, p, t]) => `${b64(h)}.${b64(p)}.${t.split('.')[2]}`),
    fc.tuple(fc.record({ alg: fc.constantFrom('RS256', 'none', 'HS256', 'RS512', 'ES256', ''), typ: fc.constantFrom('JWT', 'at+jwt', undefined), kid: fc.constantFrom(issuer.kid, 'x', undefined) }, { requiredKeys: [] }), base).map(
      ([h, t]) => `${b64(h)}.${t.split('.')[1]}.${t.split('.')[2]}`,
    ),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,400}\.[A-Za-z0-9_-]{0,400}$/),
  );
}

function hostileInput(): fc.Arbitrary<AuthenticateInput> {
  const scheme = fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Basic ', 'Bearer\t', '', 'Token ', 'Bearer, Bearer ');
  return fc.oneof(
    mutatedToken(),
    fc.tuple(scheme, mutatedToken()).map(([s, t]) => ({ headers: { authorization: s + t } })),
    fc.tuple(scheme, mutatedToken(), mutatedToken()).map(([s, a, b]) => ({ headers: { authorization: [s + a, `Bearer ${b}`] } })),
    fc.tuple(mutatedToken(), fc.string()).map(([t, junk]) => ({ headers: { cookie: `${junk}; __session=${t}; ${junk}` } })),
    fc.tuple(mutatedToken(), fc.webUrl()).map(([t, origin]) => ({ headers: { cookie: `__session=${t}`, origin, host: 'api.test' } })),
    fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()))).map((headers) => ({ headers })),
    fc.constantFrom(null, undefined, ''),
  );
}

async function expectSafe(input: AuthenticateInput): Promise<void> {
  let result: AuthenticateResult;
  try {
    result = await clerkAuth.authenticate(input);
  } catch (error) {
    throw new Error(`authenticate threw: ${String(error)}`);
  }
  if (!result.auth.isAuthenticated) {
    expect(result.reason).not.toBeNull();
    return;
  }
  expect(result.reason).toBeNull();
  // Signed in: the configured key signed exactly this header and payload, for exactly this user.
  const raw = typeof input === 'string' ? input : JSON.stringify(input);
  const token = [...genuine.keys()].find((key) => raw.includes(key));
  expect(token, 'signed in for a token the configured key did not sign').toBeDefined();
  expect(userOf(result)).toBe(genuine.get(token as string));
}

describe('fuzz: authenticate() under hostile input', () => {
  it(`never throws and never signs in a forgery (${RUNS} cases)`, async () => {
    await fc.assert(fc.asyncProperty(hostileInput(), expectSafe), { numRuns: RUNS, seed: Number(process.env.CLERK_API_AUTH_FUZZ_SEED ?? 1122) });
  }, 600_000);

  it('never leaks another caller’s identity, with concurrent callers and the cache', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: pool.length - 5 }), { minLength: 1, maxLength: 64 }), async (picks) => {
        const results = await Promise.all(picks.map((i) => clerkAuth.authenticate(new Request('http://api.test/', { headers: { authorization: `Bearer ${pool[i]}` } }))));
        results.forEach((result, n) => expect(userOf(result)).toBe(genuine.get(signingInput(pool[picks[n] as number] as string))));
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 50)) },
    );
  }, 600_000);
});
